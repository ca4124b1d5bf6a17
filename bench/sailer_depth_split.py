"""How much of an embedding's MI with depth is the cell type's, on the SNARE-seq cortex ATAC: saved latents split by type.

Usage:  python bench/sailer_depth_split.py DIR [DIR ...] [--lsi] [--seeds 3]

Each DIR holds embeddings saved as NAME.npy (cells in the order of `compare_sailer_reference.load`, as
`sailer_snare_sweep.py --save-latent DIR` writes them). The cells' log depth (log of the open regions per cell) is split
into the part the labelled type explains (each cell's type mean) and the rest (the within-type residual), and every
embedding's MI with each part is printed beside its MI with the depth itself (`metrics.mutual_information`, the tutorials'
estimator, averaged over dimensions). Also printed: R^2 of the log depth predicted from the embedding by a 15-NN regression
(5-fold cross-validation) against R^2 of the type alone (a one-way ANOVA), and the same for the residual. A latent can keep
depth out only down to what the types it separates carry: an embedding at that floor has its MI with depth in the type part
and little in the residual, while one with less MI than the floor has lost some of the types. `--lsi` adds muon's LSI
(10 components after the first); `--seeds N` averages the MI estimates over estimator seeds 0..N-1 (default 3), and two
controls are scored: a random Gaussian latent (the estimator's floor) and the type's one-hot code with small noise.
"""
from __future__ import annotations
import argparse, sys
from pathlib import Path
import numpy as np, pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from compare_sailer_reference import load
from sc_integrate.metrics import mutual_information


def knn_r2(Z, y, k=15, folds=5, seed=0):
    "Cross-validated R^2 of y from a k-NN regression on Z."
    from sklearn.model_selection import cross_val_predict, KFold
    from sklearn.neighbors import KNeighborsRegressor
    pred = cross_val_predict(KNeighborsRegressor(k), Z, y, cv=KFold(folds, shuffle=True, random_state=seed))
    return 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dirs", nargs="*")
    p.add_argument("--lsi", action="store_true")
    p.add_argument("--seeds", type=int, default=3)
    a = p.parse_args()
    atac = load(None).mod["atac"]
    d = np.log(np.asarray((atac.X > 0).sum(1)).ravel())
    lab = atac.obs["cell_type"].astype(str).to_numpy()
    type_mean = pd.Series(d).groupby(lab).transform("mean").to_numpy()
    resid = d - type_mean
    print(f"{atac.n_obs} cells; R^2 of the log depth explained by the type: {1 - resid.var() / d.var():.3f}")
    Zs = {}
    for dd in a.dirs:
        for f in sorted(Path(dd).glob("*.npy")):
            Z = np.load(f)
            if Z.shape[0] != atac.n_obs: raise SystemExit(f"{f}: {Z.shape[0]} rows, the data have {atac.n_obs} cells")
            Zs[f"{Path(dd).name}/{f.stem}"] = Z
    if a.lsi:
        from sc_integrate.benchmark import lsi_baseline
        Zs["LSI (muon, 10)"] = lsi_baseline(atac, n_comps=10)
    rng = np.random.default_rng(0)
    Zs["control: random Gaussian (10)"] = rng.standard_normal((atac.n_obs, 10)).astype(np.float32)
    onehot = pd.get_dummies(lab).to_numpy(np.float32)
    Zs["control: type one-hot + noise 0.05"] = onehot + 0.05 * rng.standard_normal(onehot.shape).astype(np.float32)
    if len(Zs) == 2: raise SystemExit("give at least one DIR of saved latents, or --lsi")
    rows = {}
    for name, Z in Zs.items():
        Z = np.ascontiguousarray(Z, dtype=np.float32)
        mi = lambda y: np.mean([mutual_information(Z, y, seed=s) for s in range(a.seeds)])
        rows[name] = {"MI depth": mi(d), "MI type part": mi(type_mean), "MI within-type part": mi(resid),
                      "R2 depth (15-NN)": knn_r2(Z, d), "R2 within-type part (15-NN)": knn_r2(Z, resid)}
        print(name, {k: round(float(v), 4) for k, v in rows[name].items()}, flush=True)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 70):
        print("\n" + pd.DataFrame(rows).T.round(4).to_string())


if __name__ == "__main__":
    main()

"""How much of an embedding's MI with depth is the cell type's, on the SNARE-seq cortex ATAC: saved latents split by type.

Usage:  python bench/sailer_depth_split.py DIR [DIR ...] [--lsi] [--seeds 3] [--rna] [--signal]

Each DIR holds embeddings saved as NAME.npy (cells in the order of `compare_sailer_reference.load`, as
`sailer_snare_sweep.py --save-latent DIR` writes them). The cells' log depth (log of the open regions per cell) is split
into the part the labelled type explains (each cell's type mean) and the rest (the within-type residual), and every
embedding's MI with each part is printed beside its MI with the depth itself (`metrics.mutual_information`, the tutorials'
estimator, averaged over dimensions). Also printed: R^2 of the log depth predicted from the embedding by a 15-NN regression
(5-fold cross-validation) against R^2 of the type alone (a one-way ANOVA), and the same for the residual, which a ridge
regression on the embedding also predicts (a depth direction of small spread, which the 15 neighbours, chosen by the
directions of large spread, average away). A latent can keep
depth out only down to what the types it separates carry: an embedding at that floor has its MI with depth in the type part
and little in the residual, while one with less MI than the floor has lost some of the types. `--lsi` adds muon's LSI
(10 components after the first); `--seeds N` averages the MI estimates over estimator seeds 0..N-1 (default 3), and two
controls are scored: a random Gaussian latent (the estimator's floor) and the type's one-hot code with small noise.
`--rna` asks whether the within-type depth an embedding keeps is the cell's state or the measurement, with the paired RNA
of the same cells: it prints the correlation of the within-type parts of log ATAC depth (open regions) and log RNA depth
(UMIs), adds as embeddings the 50 PCs of the RNA that SAILERX computes (`pca_flavor` "regressed": log RNA depth regressed
out of every gene; and "log"), and scores every embedding's 15-NN R^2 of the within-type part of the RNA depth as well.
An RNA embedding without RNA depth that predicts the within-type ATAC depth would make that part the cells' biology.
`--rotations N` adds the MI with depth of N random rotations of each embedding (`mutual_information(rotations=1, seed=s)`,
s = 0..N-1: centred, Haar-distributed; their mean, least and largest): the
metric scores each dimension alone and averages, so it depends on the axes a latent happens to have, while the neighbour
graph and every clustering do not; the spread shows how much of a difference between two embeddings is their axes.
`--signal` adds two per-cell signal-to-noise proxies of the accessibility and each embedding's 15-NN R^2 of their
within-type parts and MI with them: the fraction of a cell's open regions among the 10% most often open regions (a stand-in
for TSS enrichment: constitutive sites) and the fraction of its open regions that the 10-cell filter drops (of all 25,734).
"""
from __future__ import annotations
import argparse, sys
from pathlib import Path
import numpy as np, pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from compare_sailer_reference import load
from sc_integrate.metrics import mutual_information


def cv_r2(Z, y, model, folds=5, seed=0):
    "Cross-validated R^2 of y predicted from Z by a scikit-learn regressor."
    from sklearn.model_selection import cross_val_predict, KFold
    pred = cross_val_predict(model, Z, y, cv=KFold(folds, shuffle=True, random_state=seed))
    return 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()


def knn_r2(Z, y, k=15):
    "Cross-validated R^2 of y from a k-NN regression on Z."
    from sklearn.neighbors import KNeighborsRegressor
    return cv_r2(Z, y, KNeighborsRegressor(k))


def linear_r2(Z, y):
    "Cross-validated R^2 of y from a ridge regression on Z (penalty chosen among 1e-3..1e3 inside each fold)."
    from sklearn.linear_model import RidgeCV
    return cv_r2(Z, y, RidgeCV(alphas=np.logspace(-3, 3, 7)))


def rotated_mi(Z, y, n):
    "MI with y of n random rotations of Z, one each: `metrics.mutual_information(rotations=1, seed=s)` for s = 0..n-1."
    return np.array([mutual_information(Z, y, rotations=1, seed=s) for s in range(n)])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dirs", nargs="*")
    p.add_argument("--lsi", action="store_true")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--rna", action="store_true"); p.add_argument("--signal", action="store_true")
    p.add_argument("--rotations", type=int, default=0, help="also the MI with depth of N random rotations of each embedding")
    a = p.parse_args()
    mdata = load(None); atac = mdata.mod["atac"]
    d = np.log(np.asarray((atac.X > 0).sum(1)).ravel())
    lab = atac.obs["cell_type"].astype(str).to_numpy()
    within = lambda v: v - pd.Series(v).groupby(lab).transform("mean").to_numpy()     # a per-cell value less its type's mean
    resid = within(d); type_mean = d - resid
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
    extra_r2, extra_mi = {}, {}      # further per-cell values: scored by 15-NN R^2 (within-type parts) or by MI
    if a.rna:
        from sc_integrate.models.sailerx import _default_embedding, PCA_KEY
        rna = mdata.mod["rna"]
        if not (rna.obs_names == atac.obs_names).all(): raise SystemExit("the RNA and ATAC cells are not in the same order")
        drna = np.log(np.asarray(rna.X.sum(1)).ravel())
        extra_r2["within-type RNA depth"] = within(drna)
        print(f"correlation of the within-type parts of log ATAC depth and log RNA depth: {np.corrcoef(resid, extra_r2['within-type RNA depth'])[0, 1]:.3f}")
        for flavor in ("regressed", "log"):
            r = rna.copy(); _default_embedding(r, None, 50, "", flavor=flavor); Zs[f"RNA: 50 PCs ({flavor})"] = r.obsm[PCA_KEY]
    if a.signal:
        from sc_integrate.datasets import snare_cortex_atac
        full = snare_cortex_atac(download=False)[atac.obs_names]
        nk = np.asarray((atac.X > 0).sum(1)).ravel(); nf = np.asarray((full.X > 0).sum(1)).ravel()
        freq = np.asarray((atac.X > 0).mean(0)).ravel(); top = freq >= np.quantile(freq, 0.9)
        for k, v in (("top-10% regions", np.asarray((atac.X[:, top] > 0).sum(1)).ravel() / nk), ("filtered-out regions", 1 - nk / nf)):
            w = within(v)
            print(f"fraction of open regions in the {k}: R^2 by type {1 - w.var() / v.var():.3f}, correlation of its within-type part "
                  f"with that of log depth {np.corrcoef(w, resid)[0, 1]:.3f}")
            extra_mi[f"fraction in {k}"] = v; extra_r2[f"within-type fraction in {k}"] = w
    rows = {}
    for name, Z in Zs.items():
        Z = np.ascontiguousarray(Z, dtype=np.float32)
        mi = lambda y: np.mean([mutual_information(Z, y, seed=s) for s in range(a.seeds)])
        rows[name] = {"MI depth": mi(d), "MI type part": mi(type_mean), "MI within-type part": mi(resid),
                      "R2 depth (15-NN)": knn_r2(Z, d), "R2 within-type part (15-NN)": knn_r2(Z, resid),
                      "R2 within-type part (linear)": linear_r2(Z, resid)}
        rows[name].update({f"R2 {k}": knn_r2(Z, v) for k, v in extra_r2.items()} | {f"MI {k}": mi(v) for k, v in extra_mi.items()})
        if a.rotations:      # the per-dimension MI of the same geometry on other axes
            r = rotated_mi(Z, d, a.rotations)
            rows[name].update({"MI depth, rotated: mean": r.mean(), "min": r.min(), "max": r.max()})
        print(name, {k: round(float(v), 4) for k, v in rows[name].items()}, flush=True)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 70):
        print("\n" + pd.DataFrame(rows).T.round(4).to_string())


if __name__ == "__main__":
    main()

"""Our SAILER / SAILERX against the reference code (`bench/peer_sailer.py`) on the SNARE-seq cortex set, in one run.

Usage:  python bench/compare_sailer_reference.py sailer|sailerx [--cells N] [--epochs E] [--warmup W] [--cycle C] [--lr LR]
        [--threads T] [--only ours|reference] [--sailer-repo PATH] [--sailerx-repo PATH]

Data: `sc_integrate.datasets` "snare_cortex" (needs `SC_INTEGRATE_DATA`): 10,309 cells, regions open in at least 10 cells
(16,273), 12 samples as batches, the 23 labelled types; the tutorials' settings. `--cells N` subsamples (seed 0).
- sailer: our SAILER with batch (the tutorial's call) and without it (depth only, as the reference can take 12
  batches only as one scalar column), the reference SAILER, and LSI (muon, 10 components after the first) on the
  ATAC alone. Defaults: 30 epochs, warm-up 3, beta cycle 10, lr 1e-3 (the `sailer_atac` tutorial).
- sailerx: our SAILERX with and without batch, the reference SAILERX (paired mode, per-chromosome blocks) and the
  reference embedding itself: the same 50 PCs of the RNA (computed by our `setup_mudata`) for both implementations.
  Defaults: 50 epochs, warm-up 5, cycle 25, lr 1e-3 (the `sailerx_snare` tutorial).
Printed per embedding: best Leiden NMI and ARI over resolutions 0.2-2.0, NMI at resolution 1.0, NMI at as many
clusters as labelled types (the thesis' equal-count comparison; `metrics.cluster_to_count`), MI with log depth
(`sc_integrate.metrics`, the tutorials' scoring), and training seconds. `--only ours` (our batch + depth model) or
`--only reference` runs one side, for two processes side by side on a machine with more than one core.
"""
from __future__ import annotations
import argparse, platform, sys, time, warnings
from importlib.metadata import version
from pathlib import Path
import numpy as np, pandas as pd, torch

sys.path.insert(0, str(Path(__file__).parent))
import peer_sailer

RESOLUTIONS = (0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0)


def load(cells):
    import mudata as md
    from sc_integrate.datasets import load_dataset
    md.set_options(pull_on_update=False)
    m = load_dataset("snare_cortex", download=False)
    rna, atac = m.mod["rna"].copy(), m.mod["atac"].copy()
    for a in (rna, atac):
        for k in ("batch", "cell_type"): a.obs[k] = pd.Categorical(m.obs[k].reindex(a.obs_names).astype(str))
    atac = atac[:, np.asarray((atac.X > 0).sum(0)).ravel() >= 10].copy()
    if cells:
        keep = np.sort(np.random.default_rng(0).choice(atac.n_obs, cells, replace=False))
        atac, rna = atac[keep].copy(), rna[keep].copy()
    return md.MuData({"rna": rna, "atac": atac})


def thin(X, fraction, seed=0):
    "A CSR copy of the counts `X` with each count kept with probability `fraction` (binomial thinning; explicit zeros dropped)."
    import scipy.sparse as sp
    X = sp.csr_matrix(X, dtype=np.float32, copy=True)
    X.data = np.random.default_rng(seed).binomial(X.data.astype(np.int64), fraction).astype(np.float32); X.eliminate_zeros()
    return X


def nmi_measures(Z, labels, nn, seed=0, k=15) -> dict:
    "Best NMI and ARI of Leiden over `RESOLUTIONS`, NMI at 1.0 and at as many clusters as labelled types, on the graph of the first `k` neighbours of `nn`, Leiden seeded with `seed`."
    from sc_integrate.metrics import clustering_curve
    cc = clustering_curve(Z, labels, RESOLUTIONS, nn=nn, seed=seed, k=k, silhouette_sample=500)
    n_types = len(np.unique(labels))       # the thesis' equal-count comparison: as many clusters as labelled types
    at_n = clustering_curve(Z, labels, nn=nn, seed=seed, k=k, n_clusters=[n_types], silhouette_sample=500).iloc[0]
    return {"NMI (best)": cc.nmi.max(), "ARI (best)": cc.ari.max(), "NMI (res 1.0)": float(cc.loc[np.isclose(cc.resolution, 1.0), "nmi"].iloc[0]),
            f"NMI ({n_types} clusters)": float(at_n.nmi)}


def score(Z, atac):
    "`nmi_measures` (Leiden on the 15-NN graph, scanpy's default) and the MI with log depth."
    from sc_integrate.metrics import neighbors, mutual_information
    lab = atac.obs["cell_type"].astype(str).to_numpy()
    nn = neighbors(np.ascontiguousarray(Z, dtype=np.float32), 15)
    depth = np.log(np.asarray((atac.X > 0).sum(1)).ravel())
    return {**nmi_measures(Z, lab, nn), "MI depth": mutual_information(Z, depth)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=("sailer", "sailerx"))
    p.add_argument("--cells", type=int, default=None)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--warmup", type=int, default=None)
    p.add_argument("--cycle", type=int, default=None)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--only", choices=("ours", "reference"), default=None, help="one side only (ours: with batch)")
    p.add_argument("--sailer-repo", default=None)
    p.add_argument("--sailerx-repo", default=None)
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    sailerx = a.model == "sailerx"
    E, W, C = a.epochs or (50 if sailerx else 30), a.warmup or (5 if sailerx else 3), a.cycle or (25 if sailerx else 10)
    warnings.filterwarnings("ignore")
    t0 = time.time()
    mdata = load(a.cells); atac = mdata.mod["atac"]
    print(f"{atac.n_obs} cells x {atac.n_vars} regions; {a.model}: {E} epochs (warm-up {W}, cycle {C}), lr {a.lr}; "
          f"{torch.get_num_threads()} threads on {platform.machine()}; " + ", ".join(f"{q} {version(q)}" for q in ("sc-integrate", "torch", "numpy")))
    Z, secs = {}, {}
    if not sailerx:
        from sc_integrate.models.sailer import SAILER
        for name, kw in (("SAILER (ours, batch + depth)", dict(batch_key="batch")), ("SAILER (ours, depth only)", {})):
            if a.only == "reference" or (a.only == "ours" and not kw): continue
            b = atac.copy(); SAILER.setup_anndata(b, **kw); m = SAILER(b, seed=0); t = time.time()
            m.train(max_epochs=E, n_warmup_epochs=W, cycle_epochs=C, lr=a.lr, progress=False)
            secs[name] = time.time() - t; Z[name] = m.get_latent_representation()
        why = "--only ours" if a.only == "ours" else peer_sailer.available(a.sailer_repo, "SAILER_REPO")
        if why: print(f"reference SAILER not run: {why}")
        else:
            r = peer_sailer.train_reference_sailer(atac.X, repo=a.sailer_repo, epochs=E, warmup=W, cycle=C, lr=a.lr, threads=a.threads)
            Z["SAILER (reference code, depth only)"], secs["SAILER (reference code, depth only)"] = r["latent"], r["seconds"]
        from sc_integrate.benchmark import lsi_baseline
        Z["LSI (muon, 10)"] = lsi_baseline(atac, n_comps=10)
    else:
        import mudata as md
        from sc_integrate.models.sailerx import SAILERX, PCA_KEY
        pcs = None
        for name, kw in (("SAILERX (ours, batch + depth)", dict(batch_key="batch")), ("SAILERX (ours, depth only)", {})):
            if a.only == "ours" and not kw: continue
            mm = md.MuData({q: v.copy() for q, v in mdata.mod.items()})
            SAILERX.setup_mudata(mm, **kw); m = SAILERX(mm, seed=0)
            if a.only == "reference": pcs = m.rna_adatas[0].obsm[PCA_KEY]; break      # the same PCs, no training
            t = time.time()
            m.train(max_epochs=E, n_warmup_epochs=W, cycle_epochs=C, lr=a.lr, progress=False)
            secs[name] = time.time() - t; Z[name] = m.get_latent_representation()
            pcs = m.rna_adatas[0].obsm[PCA_KEY]
        Z["PCA of the RNA (the reference embedding)"] = pcs
        why = "--only ours" if a.only == "ours" else peer_sailer.available(a.sailerx_repo, "SAILERX_REPO")
        if why: print(f"reference SAILERX not run: {why}")
        else:
            rna = mdata.mod["rna"]
            depth = np.asarray(rna.X.sum(1)).ravel()
            r = peer_sailer.train_reference_sailerx(atac.X, pcs, depth, atac.var["chrom"].astype(str).to_numpy(), repo=a.sailerx_repo,
                                                    epochs=E, warmup=W, cycle=C, lr=a.lr, threads=a.threads)
            Z["SAILERX (reference code, depth only)"], secs["SAILERX (reference code, depth only)"] = r["latent"], r["seconds"]
    rows = {name: {**score(z, atac), "train s": secs.get(name, np.nan)} for name, z in Z.items()}
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"\nLeiden on the 15-NN graph; resolutions {RESOLUTIONS}\n" + pd.DataFrame(rows).T.round(3).to_string())
    print(f"\n{time.time() - t0:.0f} s in all")


if __name__ == "__main__":
    main()

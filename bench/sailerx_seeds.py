"""SAILERX's joint embedding against its RNA reference (by default the RNA's 50 PCs) and every PCA of the RNA on SNARE-seq, over training seeds and 90% subsamples (the thesis' error bars).

Usage:  python bench/sailerx_seeds.py [--seeds 0,1,2] [--subsamples 5] [--epochs 50] [--warmup 5] [--cycle 25] [--lr 1e-3]
        [--gamma 6000] [--batch-size 200] [--threads T] [--cells N] [--reference regressed|log|pearson|scvi|piano] [--n-pcs 50]
        [--rna-fraction F] [--grad-clip auto|off|NORM] [--dropout P] [--thinning T] [--weight-average E]

Data and model: `compare_sailer_reference.load` (10,309 cells, the 16,273 regions open in at least 10 cells, 12 samples as
batches, 23 labelled types) and the `sailerx_snare` tutorial's call (batch + depth, the package's default reference: 50 PCs of
normalised log RNA with each gene's log RNA depth regressed out, scaled and clipped at 10 (`pca_flavor="regressed"`, since
2026-12-05; clipped since 2026-12-06);
`--reference log`: 50 PCs of the log values alone (`pca_flavor="log"`, the default before); `--reference pearson`: 50 PCs
of its analytic Pearson residuals instead; `scvi` / `piano`: the latent
of scvi-tools' SCVI / our PIANO trained on the RNA with batch = sample, 100 epochs, seed 0, as the tutorial's robustness
section; `--n-pcs N` with the regressed or log reference: N PCs instead of 50, the 50 scored beside them; `--grad-clip`: train()'s gradient clipping, `auto` (SAILERX's default since
2026-12-05), `off` (the default before) or a norm). Every PCA of the RNA (regressed, log, and scanpy's standard scaled one:
`benchmark.pca_baseline(scale=True)`, genes scaled to unit variance and clipped at 10) is scored beside the reference,
with paired differences of SAILERX against each,
50 epochs, warm-up 5, cycle 25, lr 1e-3), one model per training seed. Every embedding (each seed's SAILERX latent and
the PCs themselves) is scored on the same subsamples of 90% of the cells (subsample r also seeds Leiden): NMI at
resolution 1.0 (the tutorial's chosen resolution), the best NMI over resolutions 0.2-2.0, and NMI at as many clusters as
labelled types (the thesis' equal-count comparison, `metrics.cluster_to_count`), on a 15-NN graph. Printed:
mean and standard deviation per embedding, the fraction of each cell's 15 nearest neighbours (all cells) that it shares
with the reference (the PCs unless `--reference scvi|piano`), and the paired difference SAILERX - reference per seed over the
subsamples (and SAILERX - each PCA of the RNA, and - each simple joint baseline). The simple joint baselines ask whether the ATAC holds
label information the RNA lacks: LSI of the ATAC (muon, the 10 components after the first: `benchmark.lsi_baseline`) and the
reference concatenated with it, each block centred and scaled to a mean cell norm of 1 and the LSI block weighted 0.25 or 0.5 (`benchmark.concat_embeddings`). Unless `--no-gamma0`, the same network
without the alignment (gamma 0: SAILER on the ATAC, the thesis' comparison) is trained with the first seed and scored too.
`--rna-fraction F` thins the RNA counts binomially to a fraction F (each count kept with probability F, seed 0) before
anything is computed from them: a weaker RNA, for SAILERX's reference and for the PCs it is compared with (the labels
stay those of the full data).
`--dropout`, `--thinning` and `--weight-average` pass SAILER's remedies for its overfitting on this data (`dropout_rate`,
`thinning` and `train(weight_average=E)`) to every SAILERX (and gamma-0) model; the default is none of them, as before.
"""
from __future__ import annotations
import argparse, platform, sys, time, warnings
from importlib.metadata import version
from pathlib import Path
import numpy as np, pandas as pd, torch

sys.path.insert(0, str(Path(__file__).parent))
from compare_sailer_reference import load, nmi_measures, thin
from sc_integrate.benchmark import lsi_baseline, concat_embeddings


def nmi(Z, labels, keep, r):
    "NMI at resolution 1.0, the best over `RESOLUTIONS` and at as many clusters as types, on the cells `keep`, Leiden seeded with `r`."
    from sc_integrate.metrics import neighbors
    z = np.ascontiguousarray(Z[keep], dtype=np.float32)
    m = nmi_measures(z, labels[keep], neighbors(z, 15), r)
    return m["NMI (res 1.0)"], m["NMI (best)"], m[f"NMI ({len(np.unique(labels[keep]))} clusters)"]


def knn_matrix(Z, k=15):
    "Cells x cells 0/1 matrix of each cell's k nearest neighbours (all cells)."
    import scipy.sparse as sp
    from sc_integrate.metrics import neighbors
    idx = neighbors(np.ascontiguousarray(Z, dtype=np.float32), k).indices[:, :k]
    return sp.csr_matrix((np.ones(idx.size), (np.repeat(np.arange(len(idx)), k), idx.ravel())), shape=(len(idx), len(idx)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--subsamples", type=int, default=5)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--cycle", type=int, default=25)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--gamma", type=float, default=6000.0)
    p.add_argument("--batch-size", type=int, default=200, help="minibatch size (the alignment compares the cells of one minibatch)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--cells", type=int, default=None)
    p.add_argument("--no-gamma0", action="store_true", help="leave out the network without alignment (gamma 0, SAILER on the ATAC)")
    p.add_argument("--reference", choices=("regressed", "log", "pearson", "scvi", "piano"), default="regressed",
                   help="regressed: SAILERX's default 50 PCs (log RNA depth regressed out, genes scaled and clipped at 10); log: 50 PCs of normalised log RNA; "
                        "pearson: 50 PCs of analytic Pearson residuals (scanpy); scvi / piano: the latent of SCVI / PIANO on the RNA (batch = sample, 100 epochs, seed 0)")
    p.add_argument("--grad-clip", default="auto", help="train()'s grad_clip: auto (SAILERX's default), off, or a norm")
    p.add_argument("--n-pcs", type=int, default=50, help="PCs of the log reference (the 50 default PCs are scored beside other counts)")
    p.add_argument("--rna-fraction", type=float, default=1.0, help="thin the RNA counts to this fraction first (a weaker RNA)")
    p.add_argument("--dropout", type=float, default=0.0, help="SAILERX's dropout_rate")
    p.add_argument("--thinning", type=float, default=0.0, help="SAILERX's thinning augmentation")
    p.add_argument("--weight-average", type=int, default=None, help="train(weight_average=E): average the weights of epochs E..end")
    a = p.parse_args()
    if not 0 < a.rna_fraction <= 1: raise SystemExit(f"--rna-fraction {a.rna_fraction} must be in (0, 1]")
    seeds = [int(s) for s in a.seeds.split(",")]
    if a.threads: torch.set_num_threads(a.threads)
    warnings.filterwarnings("ignore")
    import mudata as md
    from sc_integrate.models.sailerx import SAILERX, PCA_KEY
    t0 = time.time()
    mdata = load(a.cells); atac = mdata.mod["atac"]
    if a.rna_fraction < 1:
        X = mdata.mod["rna"].X = thin(mdata.mod["rna"].X, a.rna_fraction)
        print(f"RNA thinned to {a.rna_fraction}: median {np.median(np.asarray(X.sum(1)).ravel()):.0f} counts per cell; "
              f"{int((np.diff(X.indptr) == 0).sum())} cells with none", flush=True)
    print(f"{atac.n_obs} cells x {atac.n_vars} regions; SAILERX seeds {seeds}: {a.epochs} epochs (warm-up {a.warmup}, cycle "
          f"{a.cycle}), lr {a.lr}, gamma {a.gamma}, batch {a.batch_size}, dropout {a.dropout}, thinning {a.thinning}, weight average from {a.weight_average}; {a.subsamples} subsamples of 90%; {torch.get_num_threads()} threads on "
          f"{platform.machine()}; " + ", ".join(f"{q} {version(q)}" for q in ("sc-integrate", "torch", "scanpy")), flush=True)
    ref_name = {"regressed": "PCA of the RNA (regressed)", "log": "PCA of the RNA (log)", "pearson": "PCA of the RNA (pearson)",
                "scvi": "scVI latent of the RNA", "piano": "PIANO latent of the RNA"}
    Z, pc = {}, ref_name[a.reference]
    setup = dict(pca_flavor=a.reference) if a.reference in ("regressed", "log") else {}
    clip = False if a.grad_clip == "off" else a.grad_clip if a.grad_clip == "auto" else float(a.grad_clip)
    if a.reference == "pearson":          # the thesis normalises with SCTransform; analytic Pearson residuals are scanpy's nearest
        import scanpy as sc
        r = mdata.mod["rna"].copy(); sc.experimental.pp.normalize_pearson_residuals(r); sc.pp.pca(r, n_comps=50, random_state=0)
        Z[pc], setup = r.obsm["X_pca"], dict(embedding_key="X_pearson_pca")
    if a.n_pcs != 50:
        if a.reference not in ("regressed", "log") or not 2 <= a.n_pcs <= 50: raise SystemExit(f"--n-pcs {a.n_pcs}: 2 to 50, with --reference regressed or log only")
        pc = f"PCA of the RNA ({a.reference}, {a.n_pcs} PCs)"
        setup["n_pcs"] = a.n_pcs          # SAILERX computes them (its default path), the first fit's PCs are scored below
    if a.reference in ("scvi", "piano"):  # a learned RNA latent (the thesis' robustness test); the default log PCs are scored beside it
        r = mdata.mod["rna"].copy(); t = time.time()
        if a.reference == "scvi":
            import scvi
            scvi.settings.seed = 0; scvi.model.SCVI.setup_anndata(r, batch_key="batch"); sm = scvi.model.SCVI(r)
            sm.train(max_epochs=100, enable_progress_bar=False); Z[pc] = sm.get_latent_representation()
        else:
            from sc_integrate.models.piano import PIANO
            PIANO.setup_anndata(r, batch_key="batch"); pm = PIANO(r, seed=0); pm.train(max_epochs=100, progress=False)
            Z[pc] = pm.get_latent_representation()
        if a.threads: torch.set_num_threads(a.threads)       # scvi-tools' trainer sets its own count
        print(f"{pc}: trained in {time.time() - t:.0f} s", flush=True)
        setup = dict(embedding_key="X_reference")
    from sc_integrate.models.sailerx import _default_embedding
    from sc_integrate.benchmark import pca_baseline
    pcas = [ref_name["regressed"], ref_name["log"], "PCA of the RNA (scaled)"]   # every PCA of the RNA, beside the reference
    for flavor in ("regressed", "log"):
        if ref_name[flavor] != pc:
            r2 = mdata.mod["rna"].copy(); _default_embedding(r2, None, 50, "", flavor=flavor); Z[ref_name[flavor]] = r2.obsm[PCA_KEY]
    Z["PCA of the RNA (scaled)"] = pca_baseline(mdata.mod["rna"], layer=None, n_comps=50, scale=True)
    def fit(gamma, seed):
        "SAILERX as the tutorial calls it, on a copy of the data (with the chosen reference); returns the model."
        mm = md.MuData({q: v.copy() for q, v in mdata.mod.items()})
        if "embedding_key" in setup: mm.mod["rna"].obsm[setup["embedding_key"]] = np.asarray(Z[pc], dtype=np.float32)
        SAILERX.setup_mudata(mm, batch_key="batch", **setup); m = SAILERX(mm, gamma=gamma, seed=seed, dropout_rate=a.dropout, thinning=a.thinning)
        m.train(max_epochs=a.epochs, n_warmup_epochs=a.warmup, cycle_epochs=a.cycle, lr=a.lr, batch_size=a.batch_size, grad_clip=clip, progress=False,
                weight_average=a.weight_average)
        return m
    for s in seeds:
        t = time.time(); m = fit(a.gamma, s)
        Z[f"SAILERX seed {s}"] = m.get_latent_representation()
        if pc not in Z: Z[pc] = m.rna_adatas[0].obsm[PCA_KEY]          # the PCs SAILERX computed and aligned to
        print(f"seed {s}: trained in {time.time() - t:.0f} s", flush=True)
    if not a.no_gamma0:                  # the same network without the alignment: SAILER on the ATAC (the thesis' comparison)
        Z[f"SAILER (gamma 0) seed {seeds[0]}"] = fit(0.0, seeds[0]).get_latent_representation()
    joints = []                          # simple joint baselines: does the ATAC hold label information the reference lacks?
    Z["LSI of the ATAC (10)"] = lsi_baseline(atac, n_comps=10)
    for w in (0.25, 0.5):
        joints.append(f"reference + {w} x LSI (concatenated)"); Z[joints[-1]] = concat_embeddings([Z[pc], Z["LSI of the ATAC (10)"]], weights=[1, w])
    labels = atac.obs["cell_type"].astype(str).to_numpy()
    n = atac.n_obs
    subs = [np.sort(np.random.default_rng(r).choice(n, int(0.9 * n), replace=False)) for r in range(a.subsamples)]
    res = {(k, r): nmi(z, labels, keep, r) for k, z in Z.items() for r, keep in enumerate(subs)}
    measures = ("NMI (res 1.0)", "NMI (best)", f"NMI ({len(np.unique(labels))} clusters)")
    R = range(len(subs))
    val = {(k, j): np.array([res[k, r][j] for r in R]) for k in Z for j in range(len(measures))}
    rows = {k: {f"{m} {w}": f(val[k, j]) for j, m in enumerate(measures) for w, f in
                (("mean", np.mean), ("sd", lambda v: v.std(ddof=1) if len(v) > 1 else np.nan))} for k in [pc] + [k for k in Z if k != pc]}
    A_pc = knn_matrix(Z[pc])
    for k in Z: rows[k]["15-NN shared with the reference"] = A_pc.multiply(knn_matrix(Z[k])).sum() / A_pc.sum()
    diff = {}
    for base, short in ((pc, "reference"),) + tuple((q, q.replace("PCA of the RNA ", "PCs ")) for q in pcas + joints if q in Z and q != pc):
        for k in Z:
            if k in (pc, base) or not k.startswith("SAILER"): continue
            for j, m in enumerate(measures):
                d = val[k, j] - val[base, j]
                diff[f"{k} - {short}, {m}"] = {"mean": round(d.mean(), 3), "min": round(d.min(), 3), "max": round(d.max(), 3),
                                               "above": f"{(d > 0).sum()}/{len(d)}"}
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print("\n" + pd.DataFrame(rows).T.round(3).to_string())
        print("\npaired differences over the subsamples\n" + pd.DataFrame(diff).T.to_string())
    print(f"\n{time.time() - t0:.0f} s in all")


if __name__ == "__main__":
    main()

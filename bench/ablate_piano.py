"""Ablations of PIANO on a real task, one change at a time, scored together by scib-metrics' Benchmarker.

Usage:  python bench/ablate_piano.py --task baron --epochs 100 VARIANT [VARIANT ...]

A variant is `ours`, `ref` (piano-integration, through `peer_piano_integration.py`) or `scvi`, optionally followed by
`:key=value,...` (values parsed as JSON). For `ours`, constructor keys (n_latent, n_hidden, n_layers, dropout, head,
prior, adv_weight) go to `PIANO(...)`, `sample=true` takes one posterior sample as the latent (as piano-integration
does) instead of the mean, `seed=N` sets the seed, and every other key goes to `train(...)` (e.g. max_beta,
n_epochs_kl_warmup, lr). For `ref`, keys go to `piano.Composer` (e.g. min_adv_weight=0,max_adv_weight=0 turns its
adversarial term off; its `adversarial=False` path crashes in 0.1.9). Examples:

    python bench/ablate_piano.py ours ours:adv_weight=0 ours:adv_weight=0,max_beta=1,n_epochs_kl_warmup=400 ref scvi:n_latent=10

Tasks: `baron` (human + mouse pancreas, batch = species, donor as a second covariate) and `pbmc` (sorted PBMC from two
studies, batch = study); data from SC_INTEGRATE_DATA. Scores: Benchmarker's default metrics with Leiden NMI/ARI in place
of the k-means ones, PCA of the scaled log-normalised HVGs (30 components) as the pre-integrated embedding, totals
without min-max scaling. Latents are cached in --cache (delete it to retrain).
"""
import argparse, json, os, sys, time, warnings
from pathlib import Path
import numpy as np, pandas as pd

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="+"); ap.add_argument("--task", default="baron", choices=["baron", "pbmc"])
    ap.add_argument("--epochs", type=int, default=100); ap.add_argument("--cache", default="/tmp/sc_integrate_ablations")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    sys.path.insert(0, str(Path(__file__).parent))
    import scanpy as sc
    from scib_metrics.benchmark import Benchmarker, BioConservation, BatchCorrection
    from sc_integrate.datasets import baron_cross_species, pbmc_sorted_studies
    from sc_integrate.models.piano import PIANO
    if args.task == "baron": a, batch, covs = baron_cross_species(download=False), "species", ["donor"]
    else: a, batch, covs = pbmc_sorted_studies(), "study", []
    lg = a.copy(); sc.pp.normalize_total(lg, target_sum=1e4); sc.pp.log1p(lg); sc.pp.scale(lg, max_value=10)
    sc.tl.pca(lg, n_comps=30); a.obsm["PCA"] = lg.obsm["X_pca"]
    cache = Path(args.cache); cache.mkdir(parents=True, exist_ok=True)
    init_keys = ("n_latent", "n_hidden", "n_layers", "dropout", "head", "prior", "adv_weight")
    for v in args.variants:
        name, _, spec = v.partition(":")
        if name not in ("ours", "ref", "scvi"): raise SystemExit(f"variant {v!r}: the method must be ours, ref or scvi.")
        kw = {k: json.loads(x) for k, x in (p.split("=", 1) for p in spec.split(",") if p)}
        seed, sample = kw.pop("seed", 0), kw.pop("sample", False)
        f = cache / f"{args.task}_{args.epochs}_{v}.npy"
        t0 = time.perf_counter()
        if f.exists(): z = np.load(f)
        elif name == "ours":
            b = a.copy(); PIANO.setup_anndata(b, layer="counts", batch_key=batch, categorical_covariate_keys=covs)
            m = PIANO(b, seed=seed, **{k: kw.pop(k) for k in list(kw) if k in init_keys})
            m.train(max_epochs=args.epochs, progress=False, **kw); z = m.get_latent_representation(give_mean=not sample)
        elif name == "ref":
            from peer_piano_integration import train_piano_integration
            z = train_piano_integration(a, layer="counts", batch_key=batch, covariate_keys=covs, epochs=args.epochs, seed=seed, **kw)["latent"]
        else:
            import scvi; scvi.settings.seed = seed
            b = a.copy(); scvi.model.SCVI.setup_anndata(b, layer="counts", batch_key=batch, categorical_covariate_keys=covs or None)
            m = scvi.model.SCVI(b, **kw); m.train(max_epochs=args.epochs, enable_progress_bar=False); z = m.get_latent_representation()
        np.save(f, z); a.obsm[v] = np.asarray(z, dtype=np.float32)
        print(f"{v}: {time.perf_counter() - t0:.0f} s{' (cached)' if time.perf_counter() - t0 < 1 else ''}", flush=True)
    bm = Benchmarker(a, batch_key=batch, label_key="cell_type", embedding_obsm_keys=["PCA"] + args.variants, pre_integrated_embedding_obsm_key="PCA",
                     bio_conservation_metrics=BioConservation(nmi_ari_cluster_labels_leiden=True, nmi_ari_cluster_labels_kmeans=False),
                     batch_correction_metrics=BatchCorrection(), n_jobs=2, progress_bar=False)
    bm.benchmark()
    r = bm.get_results(min_max_scale=False).drop(index="Metric Type").astype(float)
    cols = ["Total", "Bio conservation", "Batch correction", "iLISI", "KBET", "BRAS", "Leiden NMI", "Leiden ARI"]
    pd.set_option("display.width", 200)
    print(r[cols].round(3).to_string())

if __name__ == "__main__": main()

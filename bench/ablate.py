"""Integration methods on a real task, one change at a time and over seeds, scored together by scib-metrics' Benchmarker.

Usage:  python bench/ablate.py --task baron --epochs 100 [--seeds 0,1,2] VARIANT [VARIANT ...]

A variant is a method, optionally followed by `:key=value,...` (values parsed as JSON):
- `piano` (or `ours`): our PIANO on raw counts. Constructor keys (n_latent, n_hidden, n_layers, dropout, head, prior,
  adv_weight) go to `PIANO(...)`, every other key to `train(...)` (e.g. max_beta, n_epochs_kl_warmup, lr).
- `ref`: piano-integration 0.1.9 through `peer_piano_integration.py`; keys go to `piano.Composer` (e.g.
  min_adv_weight=0,max_adv_weight=0 turns its adversarial term off; its `adversarial=False` crashes in 0.1.9).
  Its own readout is one posterior sample; `mean=true` scores the posterior mean of the same run instead.
- `scvi`: scvi-tools SCVI on raw counts; keys go to `SCVI(...)`.
- `sysvi`: our SysVI on log-normalised expression; constructor keys (prior, n_prior_components, kl_weight,
  cycle_weight, adv_weight, n_latent, n_hidden, n_layers, dropout, prior_mixture, trainable_pseudoinputs, ...) go to
  `SysVI(...)`, every other key to `train(...)`. Defaults: VAMP+CYC, 5 pseudoinputs, cycle weight 5, 2x256, 15 latent.
- `scvi_sysvi`: scvi-tools' `scvi.external.SysVI` on the same layer with the same architecture (VampPrior, 5
  pseudoinputs, 2x256, 15 latent) and cycle weight 5 (`z_distance_cycle_weight`); keys starting with `plan.` go to
  `plan_kwargs`, `train.` to `train(...)`, the rest to `SysVI(...)`. Its other settings are scvi-tools' defaults.
For every method, `sample=true` scores one posterior sample instead of the mean (ours and scvi-tools), and `seed=N`
sets the seed; with --seeds each variant runs once per seed and the mean over seeds is printed too.

Tasks: `baron` (human + mouse pancreas, batch = species, donor as a second covariate) and `pbmc` (sorted PBMC from two
studies, batch = study); data from SC_INTEGRATE_DATA. Scores: Benchmarker's default metrics plus Leiden NMI/ARI (the set
of the tutorial `piano_vs_peers`), PCA of the scaled log-normalised HVGs (30 components) as the pre-integrated
embedding, totals without min-max scaling. Latents are cached in --cache (delete it to retrain).
"""
import argparse, contextlib, io, json, logging, os, sys, time, warnings
from pathlib import Path
import numpy as np, pandas as pd

METHODS = ("piano", "ours", "ref", "scvi", "sysvi", "scvi_sysvi")
PIANO_INIT = ("n_latent", "n_hidden", "n_layers", "dropout", "head", "prior", "adv_weight")
SYSVI_INIT = ("prior", "n_prior_components", "kl_weight", "cycle_weight", "adv_weight", "n_latent", "n_hidden", "n_layers",
              "dropout", "cycle_covariates", "cycle_input", "embed_categorical_covariates", "inject_covariates", "trainable_pseudoinputs",
              "trainable_prior_weights", "prior_mixture")
CACHE, TASK = Path("/tmp/sc_integrate_ablations"), "baron"
SYSVI_ARCH = dict(prior="vamp", n_prior_components=5, n_hidden=256, n_layers=2, n_latent=15)


@contextlib.contextmanager
def _emulate_scvi(adam_eps=None, component_sqrt=False):
    "Experiment switches for `sysvi` that emulate two behaviours of scvi-tools' SysVI, patched for the duration of one run."
    import sc_integrate.train as T, sc_integrate.priors as P
    make, comps = T.make_optimizer, P.VampPrior.components
    if adam_eps is not None:        # Adam's eps (scvi-tools: 0.01 on a loss averaged over cells; ours sums over cells)
        def make_optimizer(*a, **k):
            o = make(*a, **k)
            for g in o.param_groups: g["eps"] = adam_eps
            return o
        T.make_optimizer = make_optimizer
    if component_sqrt:              # scvi-tools' VampPrior takes the square root of the encoder's standard deviation
        P.VampPrior.components = lambda self: (lambda m, s: (m, s.sqrt()))(*comps(self))
    try: yield
    finally: T.make_optimizer, P.VampPrior.components = make, comps

def train_variant(a, name, kw, batch, covs, epochs, seed, sample):
    "Train one variant; returns its latent."
    if name in ("piano", "ours"):
        from sc_integrate.models.piano import PIANO
        b = a.copy(); PIANO.setup_anndata(b, layer="counts", batch_key=batch, categorical_covariate_keys=covs)
        spec = json.dumps(kw, sort_keys=True)
        m = PIANO(b, seed=seed, **{k: kw.pop(k) for k in list(kw) if k in PIANO_INIT})
        f = CACHE / f"piano_{TASK}_{epochs}_{spec}_{seed}.npz".replace("/", "_").replace(" ", "")
        if not f.exists():   # one run gives both readouts: cached together
            m.train(max_epochs=epochs, progress=False, **kw)
            np.savez(f, mean=m.get_latent_representation(), sample=m.get_latent_representation(give_mean=False))
        return np.load(f)["sample" if sample else "mean"]
    if name == "ref":
        from peer_piano_integration import train_piano_integration
        mean = kw.pop("mean", False)   # one run gives both readouts: cached together
        f = CACHE / f"ref_{TASK}_{epochs}_{json.dumps(kw, sort_keys=True)}_{seed}.npz".replace("/", "_").replace(" ", "")
        if not f.exists():
            r = train_piano_integration(a, layer="counts", batch_key=batch, covariate_keys=covs, epochs=epochs, seed=seed, **kw)
            np.savez(f, latent=r["latent"], latent_mean=r["latent_mean"])
        return np.load(f)["latent_mean" if mean else "latent"]
    if name == "sysvi":
        from sc_integrate.models.sysvi import SysVI
        b = a.copy(); SysVI.setup_anndata(b, layer="lognorm", batch_key=batch, categorical_covariate_keys=covs or None)
        init = dict(SYSVI_ARCH, cycle_weight=5.0, **{k: kw.pop(k) for k in list(kw) if k in SYSVI_INIT})
        with _emulate_scvi(kw.pop("adam_eps", None), kw.pop("component_sqrt", False)):
            m = SysVI(b, seed=seed, **init); m.train(max_epochs=epochs, progress=False, **kw)
            return m.get_latent_representation(give_mean=not sample)
    import scvi
    scvi.settings.seed = seed; scvi.settings.verbosity = logging.ERROR
    b = a.copy()
    if name == "scvi":
        scvi.model.SCVI.setup_anndata(b, layer="counts", batch_key=batch, categorical_covariate_keys=covs or None)
        m = scvi.model.SCVI(b, **kw)
        with contextlib.redirect_stderr(io.StringIO()): m.train(max_epochs=epochs, enable_progress_bar=False)
        return m.get_latent_representation(give_mean=not sample)
    from scvi.external import SysVI
    plan = {k[5:]: kw.pop(k) for k in list(kw) if k.startswith("plan.")}
    tr = {k[6:]: kw.pop(k) for k in list(kw) if k.startswith("train.")}
    SysVI.setup_anndata(b, layer="lognorm", batch_key=batch, categorical_covariate_keys=covs or None)
    m = SysVI(b, **dict(SYSVI_ARCH, **kw))
    with contextlib.redirect_stderr(io.StringIO()):
        m.train(max_epochs=epochs, enable_progress_bar=False, plan_kwargs=dict(dict(z_distance_cycle_weight=5.0), **plan), **tr)
    return m.get_latent_representation(give_mean=not sample)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="+"); ap.add_argument("--task", default="baron", choices=["baron", "pbmc"])
    ap.add_argument("--epochs", type=int, default=100); ap.add_argument("--cache", default="/tmp/sc_integrate_ablations")
    ap.add_argument("--seeds", default=None, help="comma-separated seeds: every variant runs once per seed")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    sys.path.insert(0, str(Path(__file__).parent))
    import scanpy as sc
    from scib_metrics.benchmark import Benchmarker, BioConservation, BatchCorrection
    from sc_integrate.datasets import baron_cross_species, pbmc_sorted_studies
    from sc_integrate.benchmark import log_normalized
    if args.task == "baron": a, batch, covs = baron_cross_species(download=False), "species", ["donor"]
    else: a, batch, covs = pbmc_sorted_studies(), "study", []
    a.layers["lognorm"] = log_normalized(a, "counts")
    lg = a.copy(); sc.pp.normalize_total(lg, target_sum=1e4); sc.pp.log1p(lg); sc.pp.scale(lg, max_value=10)
    sc.tl.pca(lg, n_comps=30); a.obsm["PCA"] = lg.obsm["X_pca"]
    cache = Path(args.cache); cache.mkdir(parents=True, exist_ok=True)
    global CACHE, TASK; CACHE, TASK = cache, args.task
    seeds = None if args.seeds is None else [int(s) for s in args.seeds.split(",")]
    runs = []   # (variant, embedding key)
    for v in args.variants:
        name, _, spec = v.partition(":")
        if name not in METHODS: raise SystemExit(f"variant {v!r}: the method must be one of {', '.join(METHODS)}.")
        base = {k: json.loads(x) for k, x in (p.split("=", 1) for p in spec.split(",") if p)}
        for seed in (seeds or [base.get("seed", 0)]):
            kw = dict(base); kw.pop("seed", None); sample = kw.pop("sample", False)
            key = v if seeds is None else f"{v} | seed {seed}"
            f = cache / f"{args.task}_{args.epochs}_{key.replace(' | ', '_').replace('/', '_')}.npy"
            t0 = time.perf_counter()
            z = np.load(f) if f.exists() else train_variant(a, name, kw, batch, covs, args.epochs, seed, sample)
            if not f.exists(): np.save(f, z)
            a.obsm[key] = np.asarray(z, dtype=np.float32); runs.append((v, key))
            dt = time.perf_counter() - t0
            print(f"{key}: {dt:.0f} s{' (cached)' if dt < 1 else ''}", flush=True)
    bm = Benchmarker(a, batch_key=batch, label_key="cell_type", embedding_obsm_keys=["PCA"] + [k for _, k in runs],
                     pre_integrated_embedding_obsm_key="PCA", bio_conservation_metrics=BioConservation(nmi_ari_cluster_labels_leiden=True),
                     batch_correction_metrics=BatchCorrection(), n_jobs=2, progress_bar=False)
    with contextlib.redirect_stdout(io.StringIO()): bm.benchmark()
    r = bm.get_results(min_max_scale=False).drop(index="Metric Type").astype(float)
    cols = ["Total", "Bio conservation", "Batch correction", "iLISI", "KBET", "BRAS", "Leiden NMI", "Leiden ARI"]
    pd.set_option("display.width", 250); pd.set_option("display.max_colwidth", 80)
    print(r[cols].round(3).to_string())
    if seeds is not None:
        r["variant"] = [dict((k, v) for v, k in runs).get(i, i) for i in r.index]
        print("\nmean over seeds", seeds); print(r.groupby("variant", sort=False)[cols].mean().round(3).to_string())

if __name__ == "__main__": main()

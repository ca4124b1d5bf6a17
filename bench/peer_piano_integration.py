"""Peer benchmark: the reference PIANO (`piano-integration` 0.1.9 on PyPI, import name `piano`).

Runs the package's own pipeline, `piano.Composer`: `initialize_features()` -> `prepare_data()` -> `prepare_model()`
-> `train()` -> `get_latent_representation()`, on raw counts with one categorical batch covariate, torch.compile off.

Install: `pip install --no-deps piano-integration==0.1.9 fast-array-utils triton` (pyro-ppl, statsmodels, scikit-misc
are needed too). `piano/__init__` imports `piano.utils.triton_sparse`, which imports `triton` unconditionally, so
triton is needed even on CPU (only imported; its kernels are used by the SparseGPU memory mode alone).

Stubbed / set (nothing in the installed package is modified):
- NVTX: the package calls `torch.cuda.nvtx.range_push/range_pop` throughout training; on CPU builds of torch these
  raise "NVTX functions not installed", so they are replaced by no-ops before `piano` is imported (only when they fail).
- `Composer` reads `adata.X`, so it gets a copy with X = `adata.layers[layer]` and obs = the batch column (untimed).
- `n_top_genes=-1` (use all genes as given; no HVG step), `samples_per_class=None` (the default 1000 asks for a
  stratified sampler that needs `stratify_column`), `drop_last=False` (every epoch covers all cells; the default
  drops the final partial batch), `early_stopping=False` (exactly `epochs` epochs), `deterministic=False` (the
  default calls `torch.use_deterministic_algorithms(True)` for the whole process), `compile_model=False`, and a
  temporary `outdir` (train() always writes checkpoints/model_checkpoint.pt and var_names.csv).
- Timing: `Composer.train()` also builds the DataLoader and optimizer (`_initialize_training`) and saves the final
  checkpoint (`_save_trained_model`); these two methods are wrapped on the instance to timestamp the end of the first
  and the start of the second, so `seconds` is the epoch loop alone (with its per-epoch loss printing and best-weights
  copy, which are part of the package's loop). The whole `train()` call is reported in `notes` too.
Kept at the package's defaults (differences from a bare VAE): adversarial batch classifier on (gradient reversal,
weight 1), KL weight annealed linearly 0 -> 0.25 over `epochs`, AdamW lr 2e-4, NB likelihood with the ksi-psi GLM
head, dropout 0.1. Any `Composer` argument can be overridden through `**composer_kwargs`.
"""
from __future__ import annotations
import contextlib, io, sys, tempfile, time
import numpy as np

_NVTX_STUBBED: bool | None = None


def _import_piano():
    "Import `piano`, first replacing torch's NVTX range calls with no-ops if they do not work (CPU builds)."
    global _NVTX_STUBBED
    import torch
    if _NVTX_STUBBED is None:
        try:
            torch.cuda.nvtx.range_push("probe"); torch.cuda.nvtx.range_pop(); _NVTX_STUBBED = False
        except Exception:
            torch.cuda.nvtx.range_push = lambda *a, **k: 0
            torch.cuda.nvtx.range_pop = lambda *a, **k: 0
            _NVTX_STUBBED = True
    import piano
    return piano


def available() -> str | None:
    "None if the reference package can be imported and used, else a one-line reason."
    try:
        _import_piano()
    except Exception as e:
        return f"piano-integration not usable: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    return None


def train_piano_integration(adata, *, layer="counts", batch_key="donor", epochs=5, batch_size=128,
                            n_hidden=256, n_layers=3, n_latent=32, seed=0, covariate_keys=(), **composer_kwargs) -> dict:
    "Train the reference PIANO on `adata.layers[layer]` with `adata.obs[batch_key]` (and any `covariate_keys`) as categorical covariates."
    piano = _import_piano()
    import anndata as ad, pandas as pd, scipy.sparse as sp, torch

    # data setup (untimed): Composer trains on .X
    counts = adata.layers[layer]
    X = sp.csr_matrix(counts, dtype=np.float32) if sp.issparse(counts) else np.asarray(counts, dtype=np.float32)
    a = ad.AnnData(X, obs=adata.obs[[batch_key, *covariate_keys]].copy(), var=pd.DataFrame(index=adata.var_names.copy()))

    log, marks = io.StringIO(), {}
    with tempfile.TemporaryDirectory() as outdir:
        kw = dict(memory_mode="GPU" if torch.cuda.is_available() else "CPU", compile_model=False,
                  categorical_covariate_keys=[batch_key, *covariate_keys], n_top_genes=-1,
                  n_hidden=n_hidden, n_layers=n_layers, latent_size=n_latent,
                  max_epochs=epochs, batch_size=batch_size, samples_per_class=None,
                  drop_last=adata.n_obs % batch_size == 1,  # BatchNorm cannot take a 1-cell batch
                  early_stopping=False, deterministic=False, random_seed=seed, outdir=outdir)
        kw.update(composer_kwargs)
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):  # prints and tqdm bars
                comp = piano.Composer(a, **kw)
                comp.initialize_features(); comp.prepare_data(); comp.prepare_model(**comp.model_kwargs)

                init, save = comp._initialize_training, comp._save_trained_model
                def _init(*args, **kwargs):
                    out = init(*args, **kwargs); marks["start"] = time.perf_counter(); return out
                def _save(*args, **kwargs):
                    marks["end"] = time.perf_counter(); return save(*args, **kwargs)
                comp._initialize_training, comp._save_trained_model = _init, _save

                t0 = time.perf_counter(); comp.train(); t_train = time.perf_counter() - t0
                latent = comp.get_latent_representation(mc_samples=0)
                # the posterior mean through the same loader: the package's own batch readout with .mean in place of .sample()
                m = comp.model
                def _mean(x_aug, mc_samples=0):
                    x_raw = m._parse_augmented_matrix(x_aug)[0]
                    return m._encode_latent(m._prepare_encoder_input(x_raw)).mean.cpu().numpy()
                m.get_batch_latent_representation = _mean
                try: latent_mean = comp.get_latent_representation()
                finally: del m.get_batch_latent_representation
        except Exception:
            sys.stderr.write(log.getvalue()[-4000:]); raise

    notes = (f"piano {piano.__version__} Composer on {comp.device}, memory_mode={comp.memory_mode}, compile off; "
             f"{'NVTX range_push/pop stubbed (CPU torch); ' if _NVTX_STUBBED else ''}"
             f"set n_top_genes=-1, samples_per_class=None, drop_last={kw['drop_last']}, early_stopping=False, "
             f"deterministic=False; defaults kept: adversarial={kw.get('adversarial', True)}, KL 0->0.25 over "
             f"{epochs} epochs, AdamW lr 2e-4, NB ksi-psi GLM; seconds = epoch loop only "
             f"(whole train() incl. DataLoader/optimizer setup and checkpoint save: {t_train:.2f}s); "
             f"latent = one posterior sample (mc_samples=0), last-epoch weights; latent_mean = the posterior mean")
    return dict(seconds=marks["end"] - marks["start"], epochs=epochs, n_cells=adata.n_obs,
                latent=np.asarray(latent), latent_mean=np.asarray(latent_mean), notes=notes)

"""SAILER settings on the SNARE-seq cortex ATAC: Leiden NMI / ARI and MI with depth of each variant, scored as the `sailer_atac` tutorial.

Usage:  python bench/sailer_snare_sweep.py VARIANT [VARIANT ...] [--epochs 30] [--warmup 3] [--cycle 10] [--threads T] [--cells N]
        [--lsi]

A variant is a '+'-joined list of settings on top of SAILER's defaults (1000-100-10, lambda 1, positive weight 30):
  default         no change
  drop=P          dropout_rate=P (dropout after each hidden activation)
  hidden=H        n_hidden=H (the first encoder layer and the decoder's last)
  latent=D        n_latent=D
  depthonly       no batch: standardised log depth is the only confounder (the tutorial's rows use batch = sample)
  tfidf           the encoder reads TF-IDF values (log(1 + 1e4 / open regions of the cell) x log(1 + cells / cells open
                  at the region), scaled to mean 1) instead of 0/1; the decoder still reconstructs the 0/1 matrix.
                  Defined in this script only (a wrapper of the first layer); not a package option.
  bf16            train with bfloat16 autocast (`precision="bf16"`)
  indrop=P        input dropout: each open entry of the encoder's input is dropped with probability P while training (the
                  rest scaled by 1 / (1 - P)); a wrapper of the first layer in this script only, not a package option
  wd=W            weight_decay=W (default 5e-4)
  pw=W            pos_weight=W (default 30)
  bs=B            batch_size=B (default 128)
  lr=L            lr=L (default 1e-3)
  seed=S          seed=S of the weights, shuffling and sampling (default 0)
e.g. `python bench/sailer_snare_sweep.py drop=0.4 drop=0.4+tfidf drop=0.4+hidden=256 --threads 1`.

Data and scoring: `compare_sailer_reference.load` / `score` (10,309 cells, the 16,273 regions open in at least 10 cells,
12 samples as batches, 23 labelled types; Leiden over resolutions 0.2-2.0 on a 50-NN graph), seed 0. `--lsi` adds
muon's LSI (10 components after the first) as the baseline row.
"""
from __future__ import annotations
import argparse, platform, sys, time, warnings
from importlib.metadata import version
from pathlib import Path
import numpy as np, pandas as pd, torch

sys.path.insert(0, str(Path(__file__).parent))
from compare_sailer_reference import load, score

KNOWN = {"default", "drop", "hidden", "latent", "depthonly", "tfidf", "bf16", "indrop", "wd", "pw", "bs", "lr", "seed"}


def parse(variant: str) -> dict:
    out = {}
    for part in variant.split("+"):
        k, _, v = part.partition("=")
        if k not in KNOWN: raise SystemExit(f"unknown setting {k!r} in variant {variant!r}; known: {sorted(KNOWN)}")
        out[k] = v
    return out


class TfidfInput(torch.nn.Module):
    "Wraps SAILER's sparse first layer so the encoder reads TF-IDF values of the open entries (this script's experiment only)."
    def __init__(self, inner, idf, vscale):
        super().__init__()
        self.inner, self.vscale = inner, vscale
        self.register_buffer("idf", torch.as_tensor(idf, dtype=torch.float32))
    @property
    def weight(self): return self.inner.weight
    def forward(self, cols, indptr):
        nnz = indptr[1:] - indptr[:-1]
        rows = torch.repeat_interleave(torch.arange(len(nnz), device=cols.device), nnz, output_size=len(cols))
        return self.inner(cols, indptr, torch.log1p(1e4 / nnz.clamp_min(1).float())[rows] * self.idf[cols] / self.vscale)


class InputDropout(torch.nn.Module):
    "Wraps SAILER's sparse first layer: while training, each open entry is dropped with probability p (this script's experiment only)."
    def __init__(self, inner, p):
        super().__init__()
        self.inner, self.p = inner, float(p)
    @property
    def weight(self): return self.inner.weight
    def forward(self, cols, indptr):
        if not self.training or self.p == 0: return self.inner(cols, indptr)
        keep = (torch.rand(len(cols), device=cols.device) >= self.p).to(self.inner.weight.dtype) / (1 - self.p)
        return self.inner(cols, indptr, keep)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("variants", nargs="+")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--cycle", type=int, default=10)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--cells", type=int, default=None)
    p.add_argument("--lsi", action="store_true")
    a = p.parse_args()
    specs = {v: parse(v) for v in a.variants}
    if a.threads: torch.set_num_threads(a.threads)
    warnings.filterwarnings("ignore")
    from sc_integrate.models.sailer import SAILER
    atac = load(a.cells).mod["atac"]
    print(f"{atac.n_obs} cells x {atac.n_vars} regions; {a.epochs} epochs (warm-up {a.warmup}, cycle {a.cycle}); "
          f"{torch.get_num_threads()} threads on {platform.machine()}; " + ", ".join(f"{q} {version(q)}" for q in ("sc-integrate", "torch")))
    rows = {}
    for name, s in specs.items():
        kw = dict(seed=int(s.get("seed", 0)))
        if "drop" in s: kw["dropout_rate"] = float(s["drop"])
        if "hidden" in s: kw["n_hidden"] = int(s["hidden"])
        if "latent" in s: kw["n_latent"] = int(s["latent"])
        if "pw" in s: kw["pos_weight"] = float(s["pw"])
        b = atac.copy(); SAILER.setup_anndata(b, batch_key=None if "depthonly" in s else "batch"); m = SAILER(b, **kw)
        if "tfidf" in s:
            Xb = (b.X > 0).tocsr(); nnz = np.diff(Xb.indptr)
            idf = np.log1p(b.n_obs / np.asarray(Xb.sum(0)).ravel())
            vscale = float((np.log1p(1e4 / nnz)[np.repeat(np.arange(len(nnz)), nnz)] * idf[Xb.indices]).mean())
            m.module.encoder_in = TfidfInput(m.module.encoder_in, idf, vscale)
        if "indrop" in s:
            if "tfidf" in s: raise SystemExit("indrop and tfidf do not combine in this script")
            m.module.encoder_in = InputDropout(m.module.encoder_in, float(s["indrop"]))
        t = time.time()
        m.train(max_epochs=a.epochs, n_warmup_epochs=a.warmup, cycle_epochs=a.cycle, progress=False,
                precision="bf16" if "bf16" in s else "32", **{k: f(s[q]) for q, k, f in (("wd", "weight_decay", float), ("bs", "batch_size", int), ("lr", "lr", float)) if q in s})
        t = time.time() - t                  # training alone (before 2026-12-03 evening, "train s" also held the scoring below)
        rows[name] = {**score(m.get_latent_representation(), atac, 50), "train s": t}
        print(name, {k: round(float(x), 3) for k, x in rows[name].items()}, flush=True)
    if a.lsi:
        import muon as mu
        b = atac.copy(); mu.atac.pp.tfidf(b, scale_factor=1e4); mu.atac.tl.lsi(b, n_comps=11)
        rows["LSI (muon, 10)"] = {**score(b.obsm["X_lsi"][:, 1:], atac, 50), "train s": np.nan}
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("\n" + pd.DataFrame(rows).T.round(3).to_string())


if __name__ == "__main__":
    main()

"""SAILER settings on the SNARE-seq cortex ATAC: Leiden NMI / ARI and MI with depth of each variant, scored as the `sailer_atac` tutorial.

Usage:  python bench/sailer_snare_sweep.py VARIANT [VARIANT ...] [--epochs 30] [--warmup 3] [--cycle 10] [--threads T] [--cells N]
        [--lsi] [--lsi-binary] [--per-type] [--save-latent DIR] [--leiden-seeds N] [--graph-k K,K,...] [--probe] [--data snare|granja]
        [--depth-check] [--snapshots N] [--validation F] [--peakvi SEEDS] [--peakvi-epochs 30]

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
  innorm=N        the encoder's input scaled per cell: N = tf (each open entry c / n, n the cell's open regions, as LSI's term
                  frequency) or l2 (sqrt(c / n), unit length up to a constant), c the median n of the data, so that a
                  median cell reads what it reads unscaled; a wrapper of the first layer in this script only
  nodepth         the decoder's depth input held at 0 (the mean standardised log depth) for every cell: no depth confounder
                  (a patch of the module in this script only; the package always gives the decoder depth)
  idfloss         every entry (open or not) of region g weighted in the reconstruction by its IDF, log(1 + cells / cells open at
                  g), scaled to mean 1 over the regions (LSI's region weighting, moved into the loss); a patch of
                  `sailer.sparse_bce` in this script only, while this model trains
  lineardec       the decoder replaced by one linear layer from [z, confounders] to the regions' logits (LSI-like linear
                  structure; a patch of the module in this script only)
  lam=L           lambda_mi=L (default 1; 0 = the plain conditional VAE)
  beta=B          the cyclical KL weight rises to B instead of 1: `train(max_beta=B)` (a subclass of this script until 2026-12-07)
  depthlogit      a learned per-region slope on standardised log depth added to the decoder's logits (logit_g + a_g s, a_g
                  starting at 0): depth enters each region's logit directly, as in a GLM, besides the decoder's input; a
                  patch of the module in this script only
  gmm=K           the latent prior a mixture of K Gaussians with learned means, scales and weights (`priors.GaussianMixturePrior`,
                  means drawn N(0, I), scales 1) instead of N(0, I); its KL is the one-sample Monte Carlo estimate
                  log q(z) - log p(z) (a patch of the module's loss in this script only): does the standard normal prior squeeze
                  small, distinct types together?
  cons=C          with thin=LO: each training step encodes a second, independently thinned view of every cell and adds
                  C x the symmetrised KL between the two views' posteriors (per cell, summed) to the loss: the latent asked
                  outright to be the same at any depth a thinning reaches (a patch of the module in this script only)
  mcons=C         as cons=C, but the term is C x the squared difference of the two views' posterior means, each dimension
                  divided by its variance over the minibatch's means (detached), summed over dimensions: no reward for
                  shrinking a dimension towards the prior, which the KL form gives (a patch of the module in this script only)
  dthin=LO2       denoising: the encoder reads the (thin=LO-thinned) training cell thinned once more, each cell keeping each
                  open region with its own probability drawn uniform on [LO2, 1], while the decoder reconstructs the cell as
                  before, with its depth: a shallower copy of a cell is asked for the latent that rebuilds the cell itself,
                  not the copy (a patch of the module in this script only)
  decor=W         a linear decorrelation of the latent from depth: W x n x R^2 added to each minibatch's loss, where R^2 is the
                  share of the variance of the (thinned) cells' standardised log depth that a least-squares fit from their
                  posterior means explains within the minibatch of n cells (rotation-free: any linear direction of the latent
                  counts, not each dimension alone). The linear, minibatch form of an independence penalty such as the HSIC of
                  Lopez et al. (2018); it also counts the part of depth the types carry (a patch of the module's loss in this
                  script only)
  thin=LO         augmentation by thinning: at every training step each cell keeps each open region with its own probability,
                  drawn uniform on [LO, 1], in the encoder's input and in the reconstructed target alike, and its depth
                  confounder moves with the regions kept: the package's `SAILER(thinning=1 - LO)` (a patch of this script
                  until 2026-12-07; the package option draws the same regions for the same seed, the depth equal to 2e-6)
  swa=E           stochastic weight averaging: the weights at the end of every epoch from epoch E on are averaged (equal
                  weights), loaded into the model after training, and the BatchNorm statistics recomputed for them
                  (`Trainer.recalibrate_batchnorm`): the engine's `train(weight_average=E)` (a callback of this script
                  until 2026-12-07). Combine with --epochs beyond E
  clip=C          grad_clip=C: a gradient norm, auto (`train.SpikeClip`, SAILER's default since 2026-12-05) or off (none, the
                  default before)
e.g. `python bench/sailer_snare_sweep.py drop=0.4 drop=0.4+tfidf drop=0.4+hidden=256 --threads 1`.

Data and scoring: `compare_sailer_reference.load` / `score` (10,309 cells, the 16,273 regions open in at least 10 cells,
12 samples as batches, 23 labelled types; Leiden over resolutions 0.2-2.0 on the 15-NN graph, scanpy's default), seed 0.
`--data granja` trains and scores on the Granja 2019 bone-marrow subset instead (600 cells x 5,000 peaks, the 2 donors as
batches, 6 types; cells with no open peak dropped, as the `sailer_atac` tutorial; `--cells` does not apply). `--lsi` adds
muon's LSI (10 components after the first) as the baseline row. `--per-type` prints, for every labelled type, its cells and the
share of their 15 nearest neighbours of the same type in each embedding (where an embedding loses the types apart), the same
share by quartile of open regions per cell, and each
SAILER latent's active dimensions (variance of the posterior means over the mean posterior variance, above 0.1).
`--save-latent DIR` writes each embedding to DIR/NAME.npy, and each SAILER variant's posterior variances to
DIR/posterior_var/NAME.npy and its trained model to DIR/models/NAME (`SAILER.load`). `--lsi-binary` adds LSI of the binarised matrix (what SAILER reads;
the data hold counts 0-5). `--leiden-seeds N` repeats the clustering with Leiden seeds 0..N-1 on each embedding's graph and
prints the mean best NMI, NMI at 1.0 and at as many clusters as types (one seed's partition can be a lucky one);
`--graph-k 15,30,50,90` repeats that on graphs of those numbers of neighbours (the thesis clusters over ranges of both).
`--depth-check` (with `--lsi`) adds LSI with log depth regressed out of every component (a cubic in log depth,
least squares) and each SAILER latent with standardised log depth appended as one more column (scaled to the latent's
typical per-dimension spread): does LSI's lead come from the depth signal that SAILER is built to remove?
`--snapshots N` keeps the model's state every N epochs while it trains and, after training, scores each (as the final model,
Leiden seed 0) beside that epoch's training losses: how the clustering moves along one training run.
`--validation F` holds out a fraction F of the cells (the engine's `validation_fraction`) and adds their per-cell loss
components, computed in evaluation mode after every epoch, to the history and to the `--snapshots` table (prefixed `val_`):
does the clustering decline where the held-out reconstruction does (overfitting), or while it still improves?
`--peakvi 0,1,2` trains scvi-tools' PeakVI (its defaults, batch = sample, as the `sailer_atac` tutorial: all cells, no early
stopping) once per seed listed, for `--peakvi-epochs` epochs (default 30, the tutorial's), and scores each like the SAILER
variants: PeakVI's own spread over training seeds, beside SAILER's (the variants may then be left out).
`--probe` prints 5-fold cross-validated accuracy (and balanced accuracy) of a logistic regression (standardised inputs)
and a 15-NN classifier predicting the labelled type from each embedding: how much of the type each one holds, whatever
its geometry.
"""
from __future__ import annotations
import argparse, platform, sys, time, warnings
from importlib.metadata import version
from pathlib import Path
import numpy as np, pandas as pd, torch

sys.path.insert(0, str(Path(__file__).parent))
from compare_sailer_reference import load, nmi_measures, score
from sc_integrate.benchmark import lsi_baseline
from sc_integrate.train import Callback

KNOWN = {"default", "drop", "hidden", "latent", "depthonly", "tfidf", "bf16", "indrop", "wd", "pw", "bs", "lr", "seed", "lam", "beta", "innorm", "nodepth", "idfloss", "lineardec", "clip", "depthlogit", "gmm", "thin", "swa", "cons", "mcons", "dthin", "decor"}


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


class InputNorm(torch.nn.Module):
    "Wraps SAILER's sparse first layer: each open entry of a cell with n open regions reads (c / n) ** power (this script's experiment only)."
    def __init__(self, inner, c, power):
        super().__init__()
        self.inner, self.c, self.power = inner, float(c), float(power)
    @property
    def weight(self): return self.inner.weight
    def forward(self, cols, indptr):
        nnz = indptr[1:] - indptr[:-1]
        v = (self.c / nnz.clamp_min(1).to(self.inner.weight.dtype)) ** self.power
        return self.inner(cols, indptr, torch.repeat_interleave(v, nnz, output_size=len(cols)))


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


def active_dims(m) -> str:
    "Dimensions whose posterior means vary across cells more than 0.1 of the mean posterior variance (of all `n_latent`)."
    mu = m.get_latent_representation()
    var = m._map(lambda b: m.module.inference(b)["qz_var"], None, 1024, "error")
    ratio = mu.var(0) / var.mean(0)
    return f"{int((ratio > 0.1).sum())} of {len(ratio)} (variance of the means / mean variance: {[round(float(x), 2) for x in np.sort(ratio)[::-1]]})"


def per_type(latents:dict, atac) -> pd.DataFrame:
    "Cells of each labelled type (and depth quartile) and the share of their 15 nearest neighbours of the same type, per embedding."
    from sc_integrate.metrics import neighbors
    lab = atac.obs["cell_type"].astype(str).to_numpy()
    depth = np.asarray((atac.X > 0).sum(1)).ravel()                     # open regions per cell
    q = pd.qcut(depth, 4, labels=[f"depth quartile {i}" for i in range(1, 5)])
    qname = {qq: f"{qq} ({int(depth[q == qq].min())}-{int(depth[q == qq].max())} open)" for qq in q.categories}
    qlab = np.asarray([qname[x] for x in q])
    same = {name: (lab[neighbors(np.ascontiguousarray(Z, dtype=np.float32), 15).indices] == lab[:, None]).mean(1) for name, Z in latents.items()}
    by_type = pd.DataFrame({"cells": pd.Series(lab).value_counts(), **{n: pd.Series(v).groupby(lab).mean() for n, v in same.items()}})
    by_type = by_type.sort_values("cells", ascending=False)
    total = pd.DataFrame({"cells": [len(lab)], **{n: [v.mean()] for n, v in same.items()}}, index=["all cells"])
    by_depth = pd.DataFrame({"cells": pd.Series(qlab).value_counts(), **{n: pd.Series(v).groupby(qlab).mean() for n, v in same.items()}})
    return pd.concat([by_type, total, by_depth.loc[[qname[qq] for qq in q.categories]]])


def leiden_seeds(latents:dict, atac, n:int, ks=(15,)) -> pd.DataFrame:
    "Mean (and sd) over Leiden seeds 0..n-1 of the best NMI, the NMI at resolution 1.0 and at as many clusters as types, per embedding and graph size k."
    from sc_integrate.metrics import neighbors
    lab = atac.obs["cell_type"].astype(str).to_numpy(); rows = {}
    for name, Z in latents.items():
        z = np.ascontiguousarray(Z, dtype=np.float32); nn = neighbors(z, max(ks))
        for k in ks:
            v = pd.DataFrame([nmi_measures(z, lab, nn, seed, k) for seed in range(n)]).drop(columns="ARI (best)")
            rows[(name, k)] = {f"{m} {w}": f(v[m]) for m in v.columns for w, f in (("mean", np.mean), ("sd", lambda x: x.std(ddof=1) if len(x) > 1 else np.nan))}
    out = pd.DataFrame(rows).T; out.index.names = ["embedding", "graph k"]
    return out if len(ks) > 1 else out.droplevel(1)


def depth_check(latents:dict, atac) -> dict:
    "LSI with a cubic in log depth regressed out of every component, and every other embedding with standardised log depth appended as a column."
    ld = np.log(np.asarray((atac.X > 0).sum(1)).ravel()); x = (ld - ld.mean()) / ld.std()
    out = {}
    for name, Z in latents.items():
        Z = np.asarray(Z, dtype=np.float64)
        if name.startswith("LSI"):
            V = np.vander(x, 4); coef, *_ = np.linalg.lstsq(V, Z, rcond=None)
            out[f"{name}, log depth regressed out"] = Z - V @ coef
        else:
            spread = np.sqrt(((Z - Z.mean(0)) ** 2).sum(1).mean() / Z.shape[1])   # typical per-dimension spread
            out[f"{name} + log depth column"] = np.c_[Z, spread * x]
    return out


def load_granja():
    "The Granja 2019 bone-marrow scATAC subset as the `sailer_atac` tutorial reads it: obs 'batch' (donor) and 'cell_type'; cells with no open peak dropped."
    from sc_integrate.datasets import load_dataset
    gr = load_dataset("granja2019_atac", download=False).copy()
    gr.obs["batch"] = pd.Categorical(gr.obs["Group"].astype(str)); gr.obs["cell_type"] = pd.Categorical(gr.obs["BioClassification"].astype(str))
    return gr[np.asarray((gr.X > 0).sum(1)).ravel() > 0].copy()


def probe(latents:dict, atac) -> pd.DataFrame:
    "5-fold cross-validated accuracy / balanced accuracy of a logistic regression and a 15-NN classifier of the labelled type, per embedding."
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, balanced_accuracy_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    lab = atac.obs["cell_type"].astype(str).to_numpy(); cv = StratifiedKFold(5, shuffle=True, random_state=0); rows = {}
    for name, Z in latents.items():
        for cn, clf in (("logistic", make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))), ("15-NN", KNeighborsClassifier(15))):
            pred = cross_val_predict(clf, Z, lab, cv=cv)
            rows.setdefault(name, {}).update({f"{cn} accuracy": accuracy_score(lab, pred), f"{cn} balanced": balanced_accuracy_score(lab, pred)})
    return pd.DataFrame(rows).T


def file_name(name:str) -> str:
    "An embedding's name as the stem of the files `--save-latent` writes."
    return name.replace(' ', '_').replace('/', '_')


def plus_term(out, name:str, value, weight:float):
    "A module's LossOutput with weight x `value` (a scalar summed over the minibatch's cells) added to the loss; `value` logged as component `name`."
    loss = out.losses["loss"] + weight * value
    return type(out)({"loss": loss}, {**out.components, "loss": loss.detach(), name: value.detach()}, out.n_obs)


class Snapshots(Callback):
    "Copies of the module's state (weights and BatchNorm statistics) every `every` epochs, scored after training."
    def __init__(self, every:int): self.every, self.states = every, {}
    def on_epoch_end(self, trainer, epoch, logs):
        if epoch % self.every == 0: self.states[epoch] = {k: v.detach().clone() for k, v in trainer.module.state_dict().items()}


def trajectory(m, snaps, atac, history) -> pd.DataFrame:
    "Each snapshot's latent scored as `score` does (Leiden seed 0), with that epoch's training losses; the model is left at its final state."
    final = {k: v.detach().clone() for k, v in m.module.state_dict().items()}
    rows = {}
    try:
        for ep, st in snaps.states.items():
            m.module.load_state_dict(st); rows[ep] = {**score(m.get_latent_representation(), atac),
                                                      **{c: float(history.iloc[ep - 1][c]) for c in history.columns if c != "epoch"}}
            print(f"epoch {ep}", {k: round(v, 3) for k, v in rows[ep].items()}, flush=True)
    finally: m.module.load_state_dict(final)
    return pd.DataFrame(rows).T.rename_axis("epoch")


def fit(atac, s:dict, epochs:int, warmup:int, cycle:int, callbacks=(), validation:float=0.0):
    "SAILER with the settings `s` (a parsed variant) trained on `atac` (obs 'batch'); returns the model and its training seconds."
    from sc_integrate.models.sailer import SAILER
    kw = dict(seed=int(s.get("seed", 0)))
    if "drop" in s: kw["dropout_rate"] = float(s["drop"])
    if "hidden" in s: kw["n_hidden"] = int(s["hidden"])
    if "latent" in s: kw["n_latent"] = int(s["latent"])
    if "pw" in s: kw["pos_weight"] = float(s["pw"])
    if "lam" in s: kw["lambda_mi"] = float(s["lam"])
    if "thin" in s:
        if not 0 < float(s["thin"]) <= 1: raise SystemExit(f"thin={s['thin']}: the lowest keep probability must be in (0, 1]")
        kw["thinning"] = 1 - float(s["thin"])
    b = atac.copy(); SAILER.setup_anndata(b, batch_key=None if "depthonly" in s else "batch"); m = SAILER(b, **kw)
    if "tfidf" in s:
        Xb = (b.X > 0).tocsr(); nnz = np.diff(Xb.indptr)
        idf = np.log1p(b.n_obs / np.asarray(Xb.sum(0)).ravel())
        vscale = float((np.log1p(1e4 / nnz)[np.repeat(np.arange(len(nnz)), nnz)] * idf[Xb.indices]).mean())
        m.module.encoder_in = TfidfInput(m.module.encoder_in, idf, vscale)
    if "idfloss" in s:
        import torch.nn.functional as F
        import sc_integrate.models.sailer as sailer_mod
        idf = np.log1p(b.n_obs / np.maximum(np.asarray((b.X > 0).sum(0)).ravel(), 1)); w = torch.as_tensor(idf / idf.mean(), dtype=torch.float32)
        def weighted_bce(logits, rows, cols, pos_weight=1.0, uniform=False, w=w):
            if uniform: raise SystemExit("idfloss does not combine with reference_compat in this script")
            ww = w.to(logits.device, logits.dtype); G = logits.shape[1]
            l1 = logits.reshape(-1).index_select(0, rows * G + cols)
            corr = (pos_weight * F.softplus(-l1) - F.softplus(l1)) * ww.index_select(0, cols)
            return (F.softplus(logits) * ww).sum(1).index_add(0, rows, corr)
        original_bce, sailer_mod.sparse_bce = sailer_mod.sparse_bce, weighted_bce     # restored after training (below)
    if "lineardec" in s:
        g = torch.Generator().manual_seed(int(s.get("seed", 0)))
        lin = torch.nn.Linear(m.module.n_latent + m.module.n_conf, m.module.n_input)
        with torch.no_grad():
            bound = 1 / np.sqrt(lin.in_features); lin.weight.uniform_(-bound, bound, generator=g); lin.bias.uniform_(-bound, bound, generator=g)
        m.module.decoder = lin
    if "depthlogit" in s:
        from sc_integrate.core import Keys
        mod = m.module; mod.depth_slope = torch.nn.Parameter(torch.zeros(mod.n_input)); gen = mod.generative
        def generative(inference_outputs, batch, gen=gen, mod=mod):
            out = gen(inference_outputs, batch)
            return {**out, "logits": out["logits"] + batch[Keys.DEPTH].reshape(-1, 1) * mod.depth_slope}
        mod.generative = generative
    if "gmm" in s:
        from sc_integrate.priors import GaussianMixturePrior, StandardNormalPrior
        mod, K = m.module, int(s["gmm"]); g = torch.Generator().manual_seed(int(s.get("seed", 0)))
        mod.prior = GaussianMixturePrior(K, mod.n_latent, means=torch.randn(K, mod.n_latent, generator=g))
        def gmm_loss(batch, io, go, weights, base=mod.loss, mod=mod, std=StandardNormalPrior()):
            out = base(batch, io, go, weights); mu, sigma = io["qz_mean"], io["qz_var"].sqrt()
            kl_std = std.kl(mu, sigma); kl = mod.prior.kl(mu, sigma, io["z"])    # the module's closed-form KL, swapped for the mixture's
            beta = weights.get("beta", 1.0)
            return type(out)({"loss": out.losses["loss"] + beta * (kl.sum() - kl_std.sum())},
                             {**out.components, "loss": out.components["loss"] + beta * (kl.sum() - kl_std.sum()).detach(), "kl": kl.sum().detach()}, out.n_obs)
        mod.loss = gmm_loss
    if "cons" in s or "mcons" in s:
        from sc_integrate.models.sailer import SAILERModule
        mod, C, scaled = m.module, float(s.get("cons", s.get("mcons"))), "mcons" in s
        if "cons" in s and "mcons" in s: raise SystemExit("cons and mcons are two forms of one term: give one")
        if mod.thinning <= 0: raise SystemExit("cons=C / mcons=C need thin=LO: they compare two thinned views of each cell")
        def cons_forward(batch, weights=None, mod=mod, C=C, scaled=scaled):
            inf, gen, out = SAILERModule.forward(mod, batch, weights)          # view 1: thinned inside
            if not mod.training: return inf, gen, out
            inf2 = mod.inference(mod.thin(batch))                               # view 2: another thinning of the same cells
            v1, v2, d2 = inf["qz_var"], inf2["qz_var"], (inf["qz_mean"] - inf2["qz_mean"]) ** 2
            if scaled:      # the means' squared difference in units of each dimension's spread over the minibatch (no gain from shrinking a dimension)
                skl = (d2 / inf["qz_mean"].var(0).detach().clamp_min(1e-6)).sum(1)
            else:
                skl = 0.25 * (v1 / v2 + v2 / v1 - 2 + d2 * (1 / v1 + 1 / v2)).sum(1)   # (KL(q1 || q2) + KL(q2 || q1)) / 2 per cell
            return inf, gen, plus_term(out, "cons", skl.sum(), C)
        mod.forward = cons_forward
    if "dthin" in s:
        from sc_integrate.models.sailer import SAILERModule
        mod, lo2 = m.module, float(s["dthin"])
        if "cons" in s or "mcons" in s: raise SystemExit("dthin does not combine with cons / mcons in this script")
        if not 0 < lo2 <= 1: raise SystemExit(f"dthin={s['dthin']}: the lowest keep probability must be in (0, 1]")
        def dthin_forward(batch, weights=None, mod=mod, lo2=lo2):
            if not mod.training: return SAILERModule.forward(mod, batch, weights)
            target = mod.thin(batch) if mod.thinning > 0 else batch            # the cell the decoder rebuilds (thin=LO as usual)
            seen = mod.thin(target, 1 - lo2)                                    # what the encoder reads: a further thinning
            inf = mod.inference(seen); gen = mod.generative(inf, target)
            return inf, gen, mod.loss(target, inf, gen, weights if weights is not None else {})
        mod.forward = dthin_forward
    if "decor" in s:
        from sc_integrate.core import Keys
        mod, W = m.module, float(s["decor"])
        def decor_loss(batch, io, go, weights, base=mod.loss, W=W):
            out = base(batch, io, go, weights); mu = io["qz_mean"]; n, d = mu.shape
            if n <= d + 1: return out
            sd = batch[Keys.DEPTH].reshape(-1).to(mu.dtype); sd = sd - sd.mean(); Zc = mu - mu.mean(0)
            c = Zc.T @ sd / n; S = Zc.T @ Zc / n
            S = S + 1e-4 * S.diagonal().mean().detach() * torch.eye(d, dtype=mu.dtype, device=mu.device)
            r2 = c @ torch.linalg.solve(S, c) / (sd @ sd / n).clamp_min(1e-8)   # the depth's variance a linear map of the means explains
            return plus_term(out, "decor", n * r2, W)
        mod.loss = decor_loss
    if "nodepth" in s:
        conf = m.module.confounders
        def no_depth(batch, conf=conf):
            c = conf(batch); d = c.shape[1] - m.module.n_cont - 1             # the depth column follows the one-hot covariates
            return torch.cat([c[:, :d], torch.zeros_like(c[:, d:d + 1]), c[:, d + 1:]], 1)
        m.module.confounders = no_depth
    if "innorm" in s:
        if "tfidf" in s or "indrop" in s: raise SystemExit("innorm combines with neither tfidf nor indrop in this script")
        if s["innorm"] not in ("tf", "l2"): raise SystemExit(f"innorm={s['innorm']!r}: tf or l2")
        m.module.encoder_in = InputNorm(m.module.encoder_in, np.median(np.diff((b.X > 0).tocsr().indptr)), 1.0 if s["innorm"] == "tf" else 0.5)
    if "indrop" in s:
        if "tfidf" in s: raise SystemExit("indrop and tfidf do not combine in this script")
        m.module.encoder_in = InputDropout(m.module.encoder_in, float(s["indrop"]))
    t = time.time()
    try:
        m.train(max_epochs=epochs, n_warmup_epochs=warmup, cycle_epochs=cycle, progress=False, callbacks=list(callbacks), validation_fraction=validation,
                weight_average=int(s["swa"]) if "swa" in s else None,
                precision="bf16" if "bf16" in s else "32", **clip_arg(s), **{k: f(s[q]) for q, k, f in (("wd", "weight_decay", float), ("bs", "batch_size", int), ("lr", "lr", float), ("beta", "max_beta", float)) if q in s})
    finally:
        if "idfloss" in s: sailer_mod.sparse_bce = original_bce
    return m, time.time() - t          # training alone (before 2026-12-03 evening, "train s" also held the scoring below)


def fit_peakvi(atac, seed:int, epochs:int):
    "scvi-tools' PeakVI with its defaults, batch = sample, trained on all cells as the `sailer_atac` tutorial; its latent and training seconds."
    import scvi
    b = atac.copy(); scvi.settings.seed = seed
    scvi.model.PEAKVI.setup_anndata(b, batch_key="batch"); m = scvi.model.PEAKVI(b); t = time.time()
    m.train(max_epochs=epochs, train_size=1.0, early_stopping=False, check_val_every_n_epoch=None, enable_progress_bar=False)
    return m.get_latent_representation(), time.time() - t


def clip_arg(s) -> dict:
    "The train() gradient clipping of a variant: `clip=auto`, `clip=off` or `clip=<norm>`; nothing without `clip`."
    if "clip" not in s: return {}
    c = s["clip"]
    return {"grad_clip": False if c == "off" else c if c == "auto" else float(c)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("variants", nargs="*")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--cycle", type=int, default=10)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--cells", type=int, default=None)
    p.add_argument("--lsi", action="store_true")
    p.add_argument("--per-type", action="store_true")
    p.add_argument("--save-latent", default=None)
    p.add_argument("--lsi-binary", action="store_true")
    p.add_argument("--leiden-seeds", type=int, default=None)
    p.add_argument("--probe", action="store_true")
    p.add_argument("--graph-k", default="15", help="comma-separated graph sizes for --leiden-seeds")
    p.add_argument("--data", choices=("snare", "granja"), default="snare")
    p.add_argument("--depth-check", action="store_true")
    p.add_argument("--snapshots", type=int, default=None, help="score the model every N epochs of its training (a trajectory)")
    p.add_argument("--validation", type=float, default=0.0, help="fraction of cells held out for a validation loss")
    p.add_argument("--peakvi", default=None, help="comma-separated training seeds of scvi-tools' PeakVI to score beside the variants")
    p.add_argument("--peakvi-epochs", type=int, default=30)
    a = p.parse_args()
    if not a.variants and not a.peakvi: raise SystemExit("give at least one variant (e.g. `default`) or --peakvi SEEDS")
    peakvi_seeds = [int(x) for x in a.peakvi.split(",")] if a.peakvi else []
    ks = tuple(int(x) for x in a.graph_k.split(","))
    if a.graph_k != "15" and not a.leiden_seeds: raise SystemExit("--graph-k scores with --leiden-seeds N; give both")
    specs = {v: parse(v) for v in a.variants}
    if a.threads: torch.set_num_threads(a.threads)
    warnings.filterwarnings("ignore")
    if a.data == "granja" and a.cells: raise SystemExit("--cells subsamples the SNARE-seq set only")
    atac = load(a.cells).mod["atac"] if a.data == "snare" else load_granja()
    print(f"{atac.n_obs} cells x {atac.n_vars} regions; {a.epochs} epochs (warm-up {a.warmup}, cycle {a.cycle}); "
          f"{torch.get_num_threads()} threads on {platform.machine()}; " + ", ".join(f"{q} {version(q)}" for q in ("sc-integrate", "torch")))
    rows, latents = {}, {}
    for name, s in specs.items():
        snaps = Snapshots(a.snapshots) if a.snapshots else None
        m, t = fit(atac, s, a.epochs, a.warmup, a.cycle, callbacks=[snaps] if snaps else (), validation=a.validation)
        Z = m.get_latent_representation(); latents[name] = Z
        if a.save_latent:                # the posterior's variances and the model, for analyses after the run
            for sub in ("posterior_var", "models"): (Path(a.save_latent) / sub).mkdir(parents=True, exist_ok=True)
            np.save(Path(a.save_latent) / "posterior_var" / f"{file_name(name)}.npy", m._map(lambda b: m.module.inference(b)["qz_var"]))
            m.save(Path(a.save_latent) / "models" / file_name(name), overwrite=True)
        rows[name] = {**score(Z, atac), "train s": t}
        if a.per_type:
            print(name, "active dimensions:", active_dims(m), flush=True)
        print(name, {k: round(float(x), 3) for k, x in rows[name].items()}, flush=True)
        if snaps:
            with pd.option_context("display.width", 250, "display.max_columns", 30):
                print(f"\n{name}: every {a.snapshots} epochs (Leiden seed 0; losses are that epoch's means)\n"
                      + trajectory(m, snaps, atac, m.history).round(4).to_string(), flush=True)
    for seed in peakvi_seeds:
        name = f"PeakVI (seed {seed})"; Z, t = fit_peakvi(atac, seed, a.peakvi_epochs); latents[name] = Z
        rows[name] = {**score(Z, atac), "train s": t}
        print(name, {k: round(float(x), 3) for k, x in rows[name].items()}, flush=True)
    if a.lsi:
        latents["LSI (muon, 10)"] = lsi_baseline(atac, n_comps=10)
        rows["LSI (muon, 10)"] = {**score(latents["LSI (muon, 10)"], atac), "train s": np.nan}
    if a.lsi_binary:                     # LSI of what SAILER reads: the matrix binarised
        b = atac.copy(); b.X = (b.X > 0).astype(np.float32); name = "LSI (muon, 10, binarised)"
        latents[name] = lsi_baseline(b, n_comps=10); rows[name] = {**score(latents[name], atac), "train s": np.nan}
    if a.depth_check:
        if not a.lsi: raise SystemExit("--depth-check needs --lsi")
        for name, Z in depth_check(latents, atac).items():
            latents[name] = Z; rows[name] = {**score(Z, atac), "train s": np.nan}
    if a.save_latent:
        Path(a.save_latent).mkdir(parents=True, exist_ok=True)
        for name, Z in latents.items(): np.save(Path(a.save_latent) / f"{file_name(name)}.npy", Z)
    if a.per_type:
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print("\nshare of each type's 15 nearest neighbours of the same type\n" + per_type(latents, atac).round(3).to_string())
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        if a.leiden_seeds:
            print(f"\nmean and sd over Leiden seeds 0-{a.leiden_seeds - 1}\n" + leiden_seeds(latents, atac, a.leiden_seeds, ks).round(3).to_string())
        if a.probe:
            print("\nthe labelled type predicted from each embedding (5-fold cross-validation)\n" + probe(latents, atac).round(3).to_string())
        print("\n" + pd.DataFrame(rows).T.round(3).to_string())


if __name__ == "__main__":
    main()

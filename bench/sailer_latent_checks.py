"""Two checks on how SAILER's latent is read out, on the SNARE-seq or Granja ATAC, scored as `sailer_snare_sweep.py` (one Leiden seed, then seeds 0-3).

Usage:  python bench/sailer_latent_checks.py bn [snare|granja] [VARIANT]
        python bench/sailer_latent_checks.py refine [snare|granja] [VARIANT] [PASSES] [LR]

VARIANT is a `sailer_snare_sweep.py` variant (default drop=0.4), trained for 30 epochs (warm-up 3, cycle 10), seed 0.
  bn      Dropout and BatchNorm: the encoder's BatchNorm running statistics are accumulated while dropout is active, but the
          latent is computed without dropout (a "variance shift"). Recalibrates them over one pass of the data with dropout
          off (cumulative averages) with the cells in the order of the file, 512 per minibatch, prints the ratio of the new
          running variances to the old, and scores both latents; then, from the trained state again, the engine's
          `Trainer.recalibrate_batchnorm()` (what `train(precise_bn=True)` runs: the training minibatches, shuffled, of the
          training size, every BatchNorm of the module) and scores that latent too. The Granja file is sorted by cell type,
          so there the in-order minibatches are not samples of the data: read the engine's row (bench/RESULTS.md,
          2026-12-06, "Precise BatchNorm").
  refine  Amortisation gap: starting from the encoder's posterior (mu, log var), every cell's posterior is optimised on its own
          training objective ((1 + lambda) x weighted BCE + KL to N(0, I), z sampled by reparametrisation; the MI penalty,
          a minibatch term, is left out) with the trained decoder fixed (eval mode), Adam at LR (default 1e-2), minibatches of
          1,024 cells in order; the posterior means after each number of passes in PASSES (default 10,30,100) are scored.
"""
import copy, sys, time, warnings
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent)); warnings.filterwarnings("ignore")
import numpy as np, torch, pandas as pd
from sailer_snare_sweep import fit, parse, leiden_seeds, load_granja
from compare_sailer_reference import load, score


def bn_check(m) -> dict:
    "The latent as computed, and with the encoder's BatchNorm statistics recalibrated without dropout."
    Z0 = m.get_latent_representation(); trained = copy.deepcopy(m.module.state_dict())
    bns = [b for b in m.module.encoder.modules() if isinstance(b, torch.nn.BatchNorm1d)]
    before = [(b.running_mean.clone(), b.running_var.clone()) for b in bns]
    for b in bns: b.reset_running_stats(); b.momentum = None          # cumulative average over the pass
    def fwd(batch):
        for b in bns: b.train()
        with torch.no_grad(): return m.module.inference(batch)["qz_mean"]
    m._map(fwd, None, 512)
    for b in bns: b.eval()
    for (rm, rv), b in zip(before, bns):
        print("BN", b.num_features, "var ratio (recalibrated / training running) median", float((b.running_var / rv).median()),
              "mean shift / sd", float(((b.running_mean - rm).abs() / rv.sqrt()).median()))
    Z1 = m.get_latent_representation()
    m.module.load_state_dict(trained); m.trainer.recalibrate_batchnorm()
    return {"SAILER": Z0, "SAILER, BN recalibrated without dropout": Z1, "SAILER, the engine's recalibration": m.get_latent_representation()}


def refine(m, passes, lr=1e-2) -> dict:
    "The encoder's posterior means, and the means after each number of per-cell optimisation passes in `passes`."
    from sc_integrate.models.sailer import sparse_bce
    from sc_integrate.data.loaders import sequential_batches
    from sc_integrate.core import Keys
    Z0 = m.get_latent_representation(); mod = m.module; mod.eval()
    for p in mod.parameters(): p.requires_grad_(False)
    ds, _ = m._query(None, "error"); bs = 1024
    batches = list(sequential_batches(ds, bs))
    with torch.no_grad(): inf = [mod.inference(b) for b in batches]
    mu = torch.nn.Parameter(torch.cat([o["qz_mean"] for o in inf])); lv = torch.nn.Parameter(torch.cat([o["qz_log_var"] for o in inf]))
    opt = torch.optim.Adam([mu, lv], lr=lr)
    lat = {"SAILER (encoder)": Z0}; t0 = time.time(); g = torch.Generator().manual_seed(0)
    for ep in range(1, max(passes) + 1):
        tot = 0.0
        for i, b in enumerate(batches):
            lo = i * bs; hi = lo + b[Keys.DEPTH].shape[0]
            m_, l_ = mu[lo:hi], lv[lo:hi]
            z = m_ + torch.exp(0.5 * l_) * torch.randn(m_.shape, generator=g)
            logits = mod.generative({"z": z}, b)["logits"]
            rows, cols = mod.open_entries(b)
            rec = sparse_bce(logits, rows, cols, mod.pos_weight)
            kl = 0.5 * (m_ * m_ + l_.exp() - 1 - l_).sum(1)
            loss = ((1 + mod.lambda_mi) * rec + kl).sum()
            opt.zero_grad(); loss.backward(); opt.step(); tot += float(loss)
        if ep in passes:
            lat[f"refined, {ep} passes"] = mu.detach().numpy().copy()
            print(ep, "passes, loss", round(tot / mu.shape[0]), f"{time.time() - t0:.0f} s", "mean |change|", float((mu.detach() - torch.as_tensor(Z0)).abs().mean()), flush=True)
    return lat


def main():
    mode = sys.argv[1]
    if mode not in ("bn", "refine"): raise SystemExit(f"mode {mode!r}: bn or refine")
    data = sys.argv[2] if len(sys.argv) > 2 else "snare"
    variant = sys.argv[3] if len(sys.argv) > 3 else "drop=0.4"
    atac = load(None).mod["atac"] if data == "snare" else load_granja()
    m, t = fit(atac, parse(variant), 30, 3, 10); print("train s", round(t), flush=True)
    if mode == "bn": lat = bn_check(m)
    else: lat = refine(m, [int(x) for x in (sys.argv[4] if len(sys.argv) > 4 else "10,30,100").split(",")], float(sys.argv[5]) if len(sys.argv) > 5 else 1e-2)
    print(pd.DataFrame({k: score(z, atac) for k, z in lat.items()}).T.round(3).to_string())
    print(leiden_seeds(lat, atac, 4).round(3).to_string())


if __name__ == "__main__":
    main()

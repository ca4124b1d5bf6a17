"""SysVI (VAMP+CYC) training throughput and integration score against scvi-tools' SysVI, side by side in one run.

Usage:  python bench/bench_sysvi.py [--epochs 20] [--rounds 1] [--device auto] [--no-compiled] [--score]

Data: human + mouse Baron pancreas on one-to-one orthologs (`sc_integrate.datasets.baron_cross_species`, 4,028 cells x
2,000 HVGs; needs SC_INTEGRATE_DATA or a download), normalised to 1e4 and log1p; system = species, donor as a further
covariate. The same architecture on both sides: 2 hidden layers x 256, 15 latent, VampPrior with 5 pseudoinputs, cycle
weight 5 (scvi-tools' `z_distance_cycle_weight`), KL weight 1, batch 128, Adam lr 1e-3.
Printed: cells/second (training epochs only; the first epoch is warm-up for every row and is reported separately, since
for the compiled row it holds the `torch.compile` time; scvi-tools' epochs are timed by a Lightning callback) and the
ratio to scvi-tools. With --rounds R the comparison is repeated R times with fresh models, seed r in round r, and the
median ratio is printed (this machine's speed drifts by 10-30% over minutes). With --score, every latent is scored with
the sysVI metrics (iLISI across species, NMI-fixed, mean per-cell-type Jaccard, bio, batch and overall), with the mean
over seeds when R > 1. Our step runs eager and, unless --no-compiled, also compiled (`torch.compile` of the forward-backward pass; opt-in on CPU,
the default on CUDA).
"""
from __future__ import annotations
import argparse, warnings
import sys
from pathlib import Path
import numpy as np, torch
sys.path.insert(0, str(Path(__file__).parent))
from _timing import lightning_epoch_timer, print_rounds

warnings.filterwarnings("ignore")
ARCH = dict(n_hidden=256, n_layers=2, n_latent=15)
BATCH, CYCLE, K = 128, 5.0, 5


def load():
    from sc_integrate.datasets import baron_cross_species
    from sc_integrate.benchmark import log_normalized
    a = baron_cross_species(download=True)
    a.layers["lognorm"] = log_normalized(a, "counts")
    return a


def bench_ours(a, epochs, device, compile, seed=0):
    from sc_integrate.models.sysvi import SysVI
    SysVI.setup_anndata(a, layer="lognorm", batch_key="species", categorical_covariate_keys=["donor"])
    m = SysVI(a, prior="vamp", n_prior_components=K, cycle_weight=CYCLE, kl_weight=1.0, seed=seed, **ARCH)
    h = m.train(max_epochs=epochs + 1, batch_size=BATCH, lr=1e-3, device=device, compile=compile, progress=False, seed=seed)
    t = float(h["time_s"].iloc[1:].sum())
    return dict(seconds=t, cells_per_s=a.n_obs * epochs / t, warmup_s=float(h["time_s"].iloc[0]), z=m.get_latent_representation())


def bench_scvi(a, epochs, device, seed=0):
    import scvi
    from scvi.external import SysVI
    scvi.settings.seed = seed
    b = a.copy()
    SysVI.setup_anndata(b, layer="lognorm", batch_key="species", categorical_covariate_keys=["donor"])
    m = SysVI(b, prior="vamp", n_prior_components=K, n_hidden=ARCH["n_hidden"], n_layers=ARCH["n_layers"], n_latent=ARCH["n_latent"])
    acc = "gpu" if device == "cuda" else "cpu"
    plan = dict(kl_weight=1.0, z_distance_cycle_weight=CYCLE, lr=1e-3)
    timer = lightning_epoch_timer()
    m.train(max_epochs=epochs + 1, batch_size=BATCH, train_size=1.0, accelerator=acc, enable_progress_bar=False,
            plan_kwargs=plan, callbacks=[timer])
    t, w = sum(timer.times[1:]), timer.times[0]            # epoch 1 is warm-up, as for ours
    return dict(seconds=t, cells_per_s=a.n_obs * epochs / t, warmup_s=w, z=m.get_latent_representation())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--rounds", type=int, default=1, help="repeat the side-by-side comparison with fresh models")
    p.add_argument("--device", default="auto")
    p.add_argument("--no-compiled", action="store_true", help="skip the row with our step compiled")
    p.add_argument("--score", action="store_true", help="also score both latents with the sysVI metrics")
    args = p.parse_args()
    import sc_integrate
    from sc_integrate.core import get_device
    device = get_device(args.device).type
    a = load()
    print(f"sc_integrate {sc_integrate.__version__}, torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads; "
          f"{a.n_obs} cells x {a.n_vars} genes; {args.epochs} timed epochs; 2x256, 15 latent, VampPrior K={K}, cycle {CYCLE}, "
          f"batch {BATCH}")
    rounds = []
    for rnd in range(args.rounds):
        res = {}
        if device != "cuda": res["sc_integrate SysVI"] = bench_ours(a.copy(), args.epochs, device, False, seed=rnd)
        if not args.no_compiled or device == "cuda": res["sc_integrate SysVI (compiled)"] = bench_ours(a.copy(), args.epochs, device, True, seed=rnd)
        try: res["scvi-tools SysVI"] = bench_scvi(a, args.epochs, device, seed=rnd)
        except ImportError as e: print(f"scvi-tools not available ({e}); install sc-integrate[bench]")
        ref = res.get("scvi-tools SysVI", {}).get("cells_per_s")
        title = f" (round {rnd + 1} of {args.rounds})" if args.rounds > 1 else ""
        print(f"\n{'method' + title:32s} {'cells/s':>10s} {'seconds':>9s} {'warm-up s':>10s} {'x scvi-tools':>13s}")
        for k, r in res.items():
            print(f"{k:32s} {r['cells_per_s']:10.0f} {r['seconds']:9.2f} {r['warmup_s']:10.2f} {r['cells_per_s'] / ref if ref else float('nan'):13.2f}")
        rounds.append(res)
    for k in ("sc_integrate SysVI", "sc_integrate SysVI (compiled)"): print_rounds(rounds, k, "scvi-tools SysVI")
    if args.score:
        from sc_integrate.metrics import score_embeddings
        zs = {f"{k} | seed {rnd}": r["z"] for rnd, res in enumerate(rounds) for k, r in res.items()}
        df = score_embeddings(zs, a.obs["species"], a.obs["cell_type"], metrics="sysvi").drop(columns=["time_s"])
        df["overall"] = 0.6 * df["bio"] + 0.4 * df["batch"]     # the harness's weights, on unscaled metrics
        print(f"\nscores of every round's latents (overall = 0.6 bio + 0.4 batch, unscaled):")
        print(df.round(3).to_string())
        if len(rounds) > 1:
            g = df.groupby(df.index.str.split(" | ", regex=False).str[0], sort=False)
            print(f"\nmean (sd) over the {len(rounds)} seeds:")
            print((g.mean().round(3).astype(str) + " (" + g.std().round(3).astype(str) + ")").to_string())


if __name__ == "__main__":
    main()

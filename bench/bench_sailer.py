"""SAILER training throughput and peak memory against scvi-tools' PeakVI on the same sparse accessibility data, side by side in one run.

Usage:  python bench/bench_sailer.py [--data snare,sim] [--epochs 3] [--scaling 5000,10000,20000] [--device auto] [--no-peakvi] [--rounds 1]
        [--sailer default,bf16,no-retain,b400,bf16-b400,h256] [--peakvi-precision 32,bf16-mixed]
        [--cells N] [--peaks P]   (a smaller run: the first N cells, P simulated peaks; for smoke tests)

Data: `snare`, the SNARE-seq mouse cortex ATAC (10,309 cells x 25,734 regions, `sc_integrate.datasets.snare_cortex_atac`; needs
SC_INTEGRATE_DATA), batch = sample; `sim`, simulated accessibility with 100,000 peaks and 20,000 cells
(`sc_integrate.simulate`, 8 random profiles, median 3,000 fragments, rho 0.4), batch = two samples. Both CSR.
Each model at its default size: SAILER 1000-100-10 with batch 128 (Adam, the reference's architecture); PeakVI with its
defaults (n_hidden = sqrt(regions), n_latent = sqrt(n_hidden), batch 128), trained on all cells (train_size=1.0) so both see the
same cells per epoch. SAILER variants (`--sailer`): `default` (float32; freed memory kept in the process while training, the
trainer's CPU default, `train.retained_heap`), `bf16` (bfloat16 autocast, `precision="bf16"`), `no-retain` (`retain_memory=False`:
glibc returns every freed block over 32 MiB to the system, so each step faults its weight-sized gradients (100 MB on SNARE-seq) in afresh),
`b400` (batch 400, the reference code's setting for its atlas: Adam's cost per step, about 2 x 1000 x regions weights, is shared by 3x more cells) and
`bf16-b400` (both), and `h256` (float32, batch 128, a 256-unit first layer and decoder's last layer instead of the reference's 1,000:
not the default, a narrower network). PeakVI at
Lightning precision `32` (its default) and, with `--peakvi-precision 32,bf16-mixed`, also under bf16 autocast. Printed per data set: cells/s of training epochs after the first (warm-up, reported apart), their ratio
(with --rounds R, the comparison repeated with fresh models and each SAILER variant's ratio per round and median),
and each model's peak resident memory (and its increase over the start) while training. With --scaling, SAILER's time per epoch
on the first 5k / 10k / 20k cells of `sim` (linear in cells means constant seconds per 1,000 cells).
Also printed per data set (with PeakVI and the `default` variant): the float32 bound. The decoder's last layer costs SAILER 6 x 1000 x regions FLOP per cell
(its forward product, input gradient and weight gradient), whatever else the step does; divided into this device's float32
matrix-product rate (the best of five 4096 x 4096 products, measured in the same run; `--no-ceiling` skips it), that gives the
most cells/s float32 SAILER at the reference's width could reach here, and that bound over PeakVI's measured throughput.
With `bf16-b400` and PeakVI (first round): the bf16 floor, the same three products in bfloat16 at batch 400 plus the fused Adam step of
the 2 x 1000 x regions weights next to the regions, timed alone in the same run; the most cells/s any step that does both can reach.
"""
from __future__ import annotations
import argparse, sys, time, warnings
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).parent))
from _timing import lightning_epoch_timer, print_rounds

warnings.filterwarnings("ignore")


def load(name, n_peaks=100_000):
    if name == "snare":
        from sc_integrate.datasets import snare_cortex_atac
        return snare_cortex_atac(download=False)
    from sc_integrate.simulate import random_profiles, simulate_scatac
    import anndata as ad
    P = random_profiles(8, n_peaks, seed=0)
    cells = {t: 1250 for t in P.index}
    a = simulate_scatac(P, cells, mu=3000, rho=0.4, batch="s1", seed=1)
    b = simulate_scatac(P, cells, mu=3000, rho=0.4, batch="s2", seed=2)
    out = ad.concat([a, b]); out.obs["batch"] = pd.Categorical(out.obs["batch"].astype(str))
    return out[np.random.default_rng(0).permutation(out.n_obs)].copy()


VARIANTS = {"default": {}, "bf16": dict(precision="bf16"), "no-retain": dict(retain_memory=False),
            "b400": dict(batch_size=400), "bf16-b400": dict(precision="bf16", batch_size=400), "h256": dict(n_hidden=256)}
MODEL_KW = ("n_hidden",)      # variant settings of the model, not of `train`


def bench_ours(a, epochs, device, batch_size=128, variant="default"):
    from sc_integrate.models.sailer import SAILER
    from sc_integrate.benchmark import PeakMemory
    if variant not in VARIANTS: raise SystemExit(f"--sailer: unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    kw = dict(VARIANTS[variant]); batch_size = kw.pop("batch_size", batch_size)
    model_kw = {k: kw.pop(k) for k in MODEL_KW if k in kw}
    a = a.copy()
    SAILER.setup_anndata(a, batch_key="batch")
    m = SAILER(a, **model_kw)
    with PeakMemory() as mem:
        h = m.train(max_epochs=epochs + 1, batch_size=batch_size, device=device, progress=False, n_warmup_epochs=0, cycle_epochs=2,
                    **kw)
    t = float(h["time_s"].iloc[1:].sum())
    return dict(cells_per_s=a.n_obs * epochs / t, s_per_epoch=t / epochs, warmup_s=float(h["time_s"].iloc[0]), peak_mb=mem.peak_mb, increase_mb=mem.increase_mb,
                n_hidden=m.module.decoder[-1].in_features)           # the width of the decoder's last layer, for the float32 bound


def bench_peakvi(a, epochs, device, precision="32"):
    import scvi
    from sc_integrate.benchmark import PeakMemory
    b = a.copy(); scvi.settings.seed = 0
    scvi.model.PEAKVI.setup_anndata(b, batch_key="batch")
    m = scvi.model.PEAKVI(b)
    timer = lightning_epoch_timer()
    with PeakMemory() as mem:
        m.train(max_epochs=epochs + 1, batch_size=128, train_size=1.0, accelerator="gpu" if device == "cuda" else "cpu",
                enable_progress_bar=False, early_stopping=False, check_val_every_n_epoch=None, callbacks=[timer],
                precision=precision)
    t = sum(timer.times[1:])
    return dict(cells_per_s=b.n_obs * epochs / t, s_per_epoch=t / epochs, warmup_s=timer.times[0], peak_mb=mem.peak_mb, increase_mb=mem.increase_mb,
                n_hidden=m.module.n_hidden if hasattr(m.module, "n_hidden") else None)


def best_seconds(f, device:str, reps:int=5) -> float:
    "The shortest of `reps` timed calls of `f` (after one untimed), synchronising a CUDA device around each."
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    f(); sync(); best = float("inf")
    for _ in range(reps):
        t = time.perf_counter(); f(); sync(); best = min(best, time.perf_counter() - t)
    return best


def gemm_ceiling(device:str, n:int=4096, reps:int=5) -> float:
    "This device's float32 matrix-product rate in FLOP/s: the best of `reps` n x n x n products (after one untimed)."
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    return 2 * n ** 3 / best_seconds(lambda: a @ b, device, reps)


def step_floor(device:str, batch:int, n_hidden:int, n_regions:int, dtype=torch.bfloat16, reps:int=5) -> dict:
    "Milliseconds per training step of the work no SAILER setting at the reference's width avoids: the decoder's last layer's three products at `dtype` and Adam's step of the 2 x n_hidden x regions weights next to the regions (the best of `reps`)."
    best = lambda f: 1e3 * best_seconds(f, device, reps)
    h, w, g = (torch.randn(batch, n_hidden, device=device, dtype=dtype), torch.randn(n_regions, n_hidden, device=device, dtype=dtype),
               torch.randn(batch, n_regions, device=device, dtype=dtype))
    prod = best(lambda: h @ w.T) + best(lambda: g @ w) + best(lambda: g.T @ h)      # logits, the hidden layer's gradient, the weight gradient
    del h, w, g
    ps = [torch.nn.Parameter(torch.randn(n_regions, n_hidden, device=device)) for _ in range(2)]
    for q in ps: q.grad = torch.randn_like(q)
    opt = torch.optim.Adam(ps, lr=1e-3, weight_decay=5e-4, fused=True)              # as the engine's CPU / GPU default
    return dict(products_ms=prod, adam_ms=best(opt.step))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="snare,sim"); p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--scaling", default="5000,10000,20000"); p.add_argument("--device", default="auto")
    p.add_argument("--no-peakvi", action="store_true"); p.add_argument("--no-ceiling", action="store_true")
    p.add_argument("--sailer", default="default,bf16,no-retain,bf16-b400"); p.add_argument("--peakvi-precision", default="32")
    p.add_argument("--rounds", type=int, default=1, help="repeat the side-by-side comparison with fresh models (the machine drifts)")
    p.add_argument("--cells", type=int, default=None); p.add_argument("--peaks", type=int, default=100_000)
    args = p.parse_args()
    from sc_integrate.core import get_device
    dev = get_device(args.device).type
    import scvi, sc_integrate
    print(f"torch {torch.__version__}, scvi-tools {scvi.__version__}, sc_integrate {sc_integrate.__version__}, device {dev}, "
          f"threads {torch.get_num_threads()}, {time.strftime('%Y-%m-%d')}")
    sim = None
    ceiling = None if args.no_ceiling or args.no_peakvi else gemm_ceiling(dev)
    if ceiling: print(f"float32 matrix products on this device: {ceiling / 1e9:.0f} GFLOP/s (best of five 4096^3)")
    for name in [d for d in args.data.split(",") if d]:
        a = load(name, args.peaks)
        if args.cells: a = a[:args.cells].copy()
        nnz = a.X.nnz
        if name == "sim": sim = a
        print(f"\n== {name}: {a.n_obs} cells x {a.n_vars} peaks, {nnz / a.n_obs:.0f} non-zeros per cell ({nnz / a.n_obs / a.n_vars:.2%}); "
              f"{args.epochs} timed epochs after one warm-up epoch", flush=True)
        rounds = []
        for rnd in range(args.rounds):
            if args.rounds > 1: print(f"-- round {rnd + 1} of {args.rounds}", flush=True)
            rows = {}
            for v in args.sailer.split(","):
                rows["SAILER" if v == "default" else f"SAILER {v}"] = bench_ours(a, args.epochs, dev, variant=v)
            if not args.no_peakvi:
                for pr in args.peakvi_precision.split(","):
                    rows["PeakVI" if pr == "32" else f"PeakVI {pr}"] = bench_peakvi(a, args.epochs, dev, pr)
            for k, r in rows.items():
                print(f"{k:18s} {r['cells_per_s']:8.0f} cells/s  {r['s_per_epoch']:7.1f} s/epoch  (warm-up epoch {r['warmup_s']:.1f} s)  "
                      f"peak memory {r['peak_mb']:7.0f} MB (+{r['increase_mb']:.0f} MB while training)", flush=True)
            peers = [k for k in rows if k.startswith("PeakVI")]
            for ref in peers:
                for k in [k for k in rows if k.startswith("SAILER")]:
                    print(f"{k} / {ref}{' (its defaults)' if ref == 'PeakVI' else ''} throughput: {rows[k]['cells_per_s'] / rows[ref]['cells_per_s']:.2f}x")
            if ceiling and "PeakVI" in rows and "SAILER" in rows:
                need = 6 * rows["SAILER"]["n_hidden"] * a.n_vars                      # the decoder's last layer: forward, input and weight gradients
                print(f"float32 bound: the decoder's last layer alone needs {need / 1e6:.0f} MFLOP per cell, so at most {ceiling / need:.0f} cells/s "
                      f"here = {ceiling / need / rows['PeakVI']['cells_per_s']:.2f}x PeakVI's measured throughput")
            if rnd == 0 and not args.no_ceiling and "PeakVI" in rows and "SAILER bf16-b400" in rows:
                f = step_floor(dev, 400, rows["SAILER bf16-b400"]["n_hidden"], a.n_vars)
                cap = 400 / ((f["products_ms"] + f["adam_ms"]) / 1e3)
                print(f"bf16 floor at batch 400: the decoder's last-layer products {f['products_ms']:.0f} ms + Adam's step {f['adam_ms']:.0f} ms per step "
                      f"-> at most {cap:.0f} cells/s = {cap / rows['PeakVI']['cells_per_s']:.2f}x PeakVI, whatever else the step does "
                      f"(measured: {rows['SAILER bf16-b400']['cells_per_s'] / rows['PeakVI']['cells_per_s']:.2f}x)")
            rounds.append(rows)
        for k in [k for k in rounds[0] if k.startswith("SAILER")]:
            if "PeakVI" in rounds[0]: print_rounds(rounds, k, "PeakVI")
    if args.scaling and sim is None: sim = load("sim", args.peaks)
    if args.scaling:
        print(f"\n== SAILER time per epoch against cells (sim, {sim.n_vars} peaks)")
        for n in [int(x) for x in args.scaling.split(",")]:
            r = bench_ours(sim[:n].copy(), max(args.epochs - 1, 1), dev)
            print(f"{n:6d} cells: {r['s_per_epoch']:7.1f} s/epoch, {1000 * r['s_per_epoch'] / n:.2f} s per 1,000 cells, "
                  f"peak memory {r['peak_mb']:.0f} MB (+{r['increase_mb']:.0f} MB)", flush=True)


if __name__ == "__main__":
    main()

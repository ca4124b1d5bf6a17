"""PIANO training throughput against scvi-tools SCVI (and the reference piano-integration), side by side in one run.

Usage:  python bench/bench_piano.py [--epochs 10] [--rounds 1] [--cells N] [--device auto] [--compile] [--skip-peers]

Data: the embedded Baron human pancreas (2,142 cells x 2,000 HVGs, 4 donors); `--cells N` tiles it to N cells.
Architecture for every method: 3 hidden layers x 256, 32 latent, batch 128, donor as the batch covariate.
"sc_integrate PIANO" is the default eager step (PyTorch only: the fused NB-GLM head `NBGLMLogLik`). With --compile,
it trains with `compile=True` (`torch.compile` of the forward-backward pass; the default on CUDA) and, on CPU, the eager
step is timed beside it in every round ("sc_integrate PIANO, eager").
Printed: cells/second of each method (training epochs only, the first epoch of every method excluded as warm-up;
scvi-tools' epochs are timed by a Lightning callback), the ratio to scvi-tools (with --rounds R, the whole comparison
is repeated R times with fresh models and every round's ratio and their median are printed: this machine's speed
drifts by 10-30% over minutes, so single rounds can differ), the matrix-multiply bound of PIANO's layer shapes on this
machine (measured in every round, right after the models, with torch's matrix multiply), on CPU the time of the largest
product through torch's `F.linear` against torch's oneDNN (a diagnostic: on AMD processors the MKL that `F.linear` calls
runs at about half oneDNN's speed, and torch documents no full-precision fp32 route to oneDNN for training: its
`torch.backends.mkldnn.matmul.fp32_precision` setting reaches oneDNN only by rounding to bf16), and the peak memory of
each of our memory modes (each measured in a fresh subprocess).
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, time
from pathlib import Path
import numpy as np
import torch

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from _timing import lightning_epoch_timer, print_rounds
ARCH = dict(n_hidden=256, n_layers=3, n_latent=32)
BATCH = 128
EAGER = "sc_integrate PIANO, eager"


def load(cells: int | None):
    import anndata as ad
    from sc_integrate.datasets import baron_human_pancreas
    a = baron_human_pancreas()
    if cells and cells != a.n_obs:
        reps = int(np.ceil(cells / a.n_obs))
        a = ad.concat([a] * reps, index_unique="-")[:cells].copy()
    return a


def bench_ours(a, epochs, device, compile, memory_mode="auto"):
    from sc_integrate.models.piano import PIANO
    PIANO.setup_anndata(a, layer="counts", batch_key="donor")
    m = PIANO(a, **ARCH)
    h = m.train(max_epochs=epochs + 1, batch_size=BATCH, device=device, compile=compile, progress=False, memory_mode=memory_mode)
    t = float(h["time_s"].iloc[1:].sum())        # epoch 1 is warm-up (and compilation when compile=True)
    data_mb = m.trainer.dataset.nbytes["X"] / 2**20   # what training stored for X
    return dict(seconds=t, cells_per_s=a.n_obs * epochs / t, first_epoch_s=float(h["time_s"].iloc[0]), data_mb=data_mb)


def bench_scvi(a, epochs, device):
    import scvi
    scvi.settings.seed = 0
    b = a.copy()
    scvi.model.SCVI.setup_anndata(b, layer="counts", batch_key="donor")
    # the PIANO paper's scVI settings: ZINB, gene-batch dispersion, same architecture
    m = scvi.model.SCVI(b, gene_likelihood="zinb", dispersion="gene-batch", **ARCH)
    acc = "gpu" if device == "cuda" else "cpu"
    timer = lightning_epoch_timer()
    m.train(max_epochs=epochs + 1, batch_size=BATCH, train_size=1.0, accelerator=acc, enable_progress_bar=False, callbacks=[timer])
    t = sum(timer.times[1:])                    # epoch 1 is warm-up, as for ours
    return dict(seconds=t, cells_per_s=a.n_obs * epochs / t)


def matmul_bound(n_genes, n_cov, device, reps=50):
    """Cells/s if a training step cost only its matrix multiplies (forward + the backward ones) at batch 128, each timed alone
    with torch's matrix multiply (best of `reps`)."""
    dev = torch.device(device)
    h, d = ARCH["n_hidden"], ARCH["n_latent"]
    enc = [(n_genes, h)] + [(h, h)] * (ARCH["n_layers"] - 1) + [(h, d), (h, d)]
    dec = [(d + n_cov, h)] + [(h, h)] * (ARCH["n_layers"] - 1) + [(h, n_genes)]
    def best(op):
        for _ in range(5): op()
        if dev.type == "cuda": torch.cuda.synchronize()
        t = np.inf
        for _ in range(reps):
            t0 = time.perf_counter(); op()
            if dev.type == "cuda": torch.cuda.synchronize()
            t = min(t, time.perf_counter() - t0)
        return t
    total = 0.0
    for i, (fi, fo) in enumerate(enc + dec):
        x, w, g = torch.randn(BATCH, fi, device=dev), torch.randn(fi, fo, device=dev), torch.randn(BATCH, fo, device=dev)
        ops = [lambda: x @ w, lambda: x.T @ g]
        if i != 0: ops.append(lambda: g @ w.T)           # no input gradient for the first encoder layer
        total += sum(best(op) for op in ops)
    return BATCH / total


def matmul_engines(n_genes, reps=50):
    """CPU only: the largest product of PIANO's step (batch x genes -> hidden, forward) through torch's `F.linear`, which
    training uses (MKL on x86 builds), and through torch's oneDNN (`mkldnn_linear` on oneDNN-layout tensors, inference
    only: a diagnostic, no training path uses it). Best of `reps`, in microseconds."""
    import torch.nn.functional as F
    x, w, b = torch.randn(BATCH, n_genes), torch.randn(ARCH["n_hidden"], n_genes), torch.randn(ARCH["n_hidden"])
    def best(op):
        for _ in range(5): op()
        t = np.inf
        for _ in range(reps):
            t0 = time.perf_counter(); op(); t = min(t, time.perf_counter() - t0)
        return t * 1e6
    out = {"F.linear": best(lambda: F.linear(x, w, b))}
    if torch.backends.mkldnn.is_available():
        xm, wm, bm = x.to_mkldnn(), w.to_mkldnn(), b.to_mkldnn()
        with torch.no_grad(): out["oneDNN"] = best(lambda: torch._C._nn.mkldnn_linear(xm, wm, bm))
    return out


def memory_child(mode, cells, epochs, device):
    "Run in a subprocess: train one model in one memory mode and report its peak memory (and its rise during training)."
    from sc_integrate.benchmark import PeakMemory
    a = load(cells)
    with PeakMemory() as pm: r = bench_ours(a, epochs, device, False, memory_mode=mode)
    r["peak_rss_mb"], r["rss_increase_mb"] = pm.peak_mb, pm.increase_mb
    if device == "cuda": r["peak_gpu_mb"] = pm.gpu_peak_mb
    print("RESULT" + json.dumps(r))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--rounds", type=int, default=1, help="repeat the side-by-side comparison with fresh models")
    p.add_argument("--cells", type=int, default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--compile", action="store_true", help="train(compile=True): torch.compile of the forward-backward pass "
                   "(the default on CUDA); on CPU the eager step is timed beside it")
    p.add_argument("--skip-peers", action="store_true")
    p.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    from sc_integrate.core import get_device
    import sc_integrate
    device = get_device(args.device).type
    if args.memory_child:
        return memory_child(args.memory_child, args.cells, args.epochs, device)
    compile = args.compile or device == "cuda"
    a = load(args.cells)
    print(f"sc_integrate {sc_integrate.__version__}, torch {torch.__version__}, device {device}, "
          f"{torch.get_num_threads()} threads; {a.n_obs} cells x {a.n_vars} genes; {args.epochs} timed epochs; "
          f"3x256, 32 latent, batch {BATCH}; compile={compile}")
    peer = None
    if not args.skip_peers:
        try:
            import peer_piano_integration as peer
            why = peer.available()
            if why: print(f"piano-integration not run: {why}"); peer = None
        except ImportError as e: print(f"piano-integration runner not available ({e})"); peer = None
    rounds = []
    for rnd in range(args.rounds):
        res = {"sc_integrate PIANO": bench_ours(a.copy(), args.epochs, device, compile)}
        if compile and device == "cpu": res[EAGER] = bench_ours(a.copy(), args.epochs, device, False)
        if not args.skip_peers:
            try: res["scvi-tools SCVI"] = bench_scvi(a, args.epochs, device)
            except ImportError as e: print(f"scvi-tools not available ({e}); install sc-integrate[bench]")
            if peer is not None:
                r = peer.train_piano_integration(a.copy(), epochs=args.epochs, batch_size=BATCH, **ARCH)
                res["piano-integration"] = dict(seconds=r["seconds"], cells_per_s=a.n_obs * args.epochs / r["seconds"])
                if r.get("notes") and rnd == 0: print(f"piano-integration notes: {r['notes']}")
        res["matrix-multiply bound"] = dict(seconds=float("nan"), cells_per_s=matmul_bound(a.n_vars, a.obs["donor"].nunique(), device))
        title = f" (round {rnd + 1} of {args.rounds})" if args.rounds > 1 else ""
        print(f"\n{'method' + title:26s} {'cells/s':>10s} {'seconds':>9s} {'x scvi-tools':>13s}")
        ref = res.get("scvi-tools SCVI", {}).get("cells_per_s")
        for k, r in res.items():
            print(f"{k:26s} {r['cells_per_s']:10.0f} {r['seconds']:9.2f} {r['cells_per_s'] / ref if ref else float('nan'):13.2f}")
        print(f"bound / PIANO this round: {res['matrix-multiply bound']['cells_per_s'] / res['sc_integrate PIANO']['cells_per_s']:.2f}x")
        rounds.append(res)
    print_rounds(rounds, "sc_integrate PIANO", "scvi-tools SCVI")
    if compile and device == "cpu":
        print_rounds(rounds, EAGER, "scvi-tools SCVI"); print_rounds(rounds, "sc_integrate PIANO", EAGER)
    bounds = [r["matrix-multiply bound"]["cells_per_s"] for r in rounds]
    ratios = [b / r["sc_integrate PIANO"]["cells_per_s"] for b, r in zip(bounds, rounds)]
    print(f"\nmatrix-multiply bound / sc_integrate PIANO, round by round: {', '.join(f'{x:.2f}x' for x in ratios)}; median {np.median(ratios):.2f}x")
    print(f"matrix-multiply bound of PIANO's layer shapes (forward and backward matrix multiplies at batch {BATCH}, torch's mm): "
          f"{np.min(bounds):.0f}-{np.max(bounds):.0f} cells/s over the rounds; the ratio above is bound / PIANO")
    if device == "cpu":
        e = matmul_engines(a.n_vars)
        line = f"{BATCH}x{a.n_vars} -> {ARCH['n_hidden']} product, forward, best of 50: torch F.linear (training's route) {e['F.linear']:.0f} us"
        if "oneDNN" in e: line += f"; torch's oneDNN {e['oneDNN']:.0f} us (F.linear / oneDNN {e['F.linear'] / e['oneDNN']:.2f}x)"
        print("\n" + line)
    print(f"\npeak memory by memory mode (fresh subprocess each, {max(1, args.epochs // 2)} epochs; RSS rise = peak during training minus RSS before it):")
    print(f"{'mode':8s} {'X storage MB':>13s} {'peak RSS MB':>12s} {'RSS rise MB':>12s} {'peak GPU MB':>12s} {'cells/s':>9s}")
    for mode in ("dense", "sparse", "host"):
        cmd = [sys.executable, __file__, "--memory-child", mode, "--epochs", str(max(1, args.epochs // 2)), "--device", device]
        if args.cells: cmd += ["--cells", str(args.cells)]
        out = subprocess.run(cmd, capture_output=True, text=True)
        line = [l for l in out.stdout.splitlines() if l.startswith("RESULT")]
        if not line: print(f"{mode:8s} failed: {out.stderr[-500:]}"); continue
        r = json.loads(line[0][6:])
        print(f"{mode:8s} {r['data_mb']:13.1f} {r['peak_rss_mb']:12.0f} {r['rss_increase_mb']:12.0f} "
              f"{r.get('peak_gpu_mb', float('nan')):12.1f} {r['cells_per_s']:9.0f}")


if __name__ == "__main__":
    main()

"""SAILERX training throughput and peak memory against scvi-tools' MultiVI on the same paired RNA + ATAC data, side by side in one
run; SAILERX with and without per-chromosome blocks; and the grouped per-chromosome layers against a Python loop of small layers.

Usage:  python bench/bench_sailerx.py [--epochs 3] [--cells N] [--device auto] [--no-multivi] [--no-loop]

Data: the SNARE-seq mouse cortex set (`sc_integrate.datasets.load_dataset("snare_cortex")`: 10,309 paired cells, 1,677 genes,
25,734 regions on 20 chromosomes; needs SC_INTEGRATE_DATA), batch = sample, CSR. Each model at its default size: SAILERX with
per-chromosome blocks (64-32 per chromosome, latent 50, batch 200) and with SAILER's plain blocks (1000-100); the reference
embedding (50 PCs, computed at registration) is not timed. MultiVI with its defaults (batch 128), trained on all cells
(train_size=1.0) so every model sees the same cells per epoch. Printed: cells/s of the training epochs after the first (reported
apart), the ratios to MultiVI, and each model's peak resident memory (and its increase over the start) while training.
--no-loop skips the layer comparison: forward + backward of the encoder's first and the decoder's last per-chromosome layer,
`nn.BlockSparseLinear` / `nn.BlockLinear` (one grouped operation) against one `nn.Linear` per chromosome in a loop.
"""
from __future__ import annotations
import argparse, sys, time, warnings
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).parent))
from _timing import lightning_epoch_timer

warnings.filterwarnings("ignore")


def load(cells=None):
    from sc_integrate.datasets import load_dataset
    m = load_dataset("snare_cortex", download=False)
    if cells: m = m[np.sort(np.random.default_rng(0).choice(m.n_obs, cells, replace=False))].copy()
    import mudata as md
    rna, atac = m.mod["rna"].copy(), m.mod["atac"].copy()
    for a in (rna, atac): a.obs["batch"] = pd.Categorical(m.obs["batch"].reindex(a.obs_names).astype(str))
    return md.MuData({"rna": rna, "atac": atac})


def bench_sailerx(mdata, epochs, device, blocks):
    from sc_integrate.models.sailerx import SAILERX
    from sc_integrate.benchmark import PeakMemory
    SAILERX.setup_mudata(mdata, batch_key="batch", chromosome_blocks="auto" if blocks else False)
    m = SAILERX(mdata)
    with PeakMemory() as mem:
        h = m.train(max_epochs=epochs + 1, device=device, progress=False, n_warmup_epochs=0, cycle_epochs=2)
    t = float(h["time_s"].iloc[1:].sum()); n = mdata.mod["atac"].n_obs
    return dict(cells_per_s=n * epochs / t, s_per_epoch=t / epochs, warmup_s=float(h["time_s"].iloc[0]), peak_mb=mem.peak_mb,
                increase_mb=mem.increase_mb, params=sum(p.numel() for p in m.module.parameters()))


def bench_multivi(mdata, epochs, device):
    import scvi
    from sc_integrate.benchmark import PeakMemory
    md2 = mdata.copy(); scvi.settings.seed = 0
    scvi.model.MULTIVI.setup_mudata(md2, batch_key="batch", modalities={"rna_layer": "rna", "atac_layer": "atac", "batch_key": "rna"})
    m = scvi.model.MULTIVI(md2, n_genes=md2.mod["rna"].n_vars, n_regions=md2.mod["atac"].n_vars)
    timer = lightning_epoch_timer()
    with PeakMemory() as mem:
        m.train(max_epochs=epochs + 1, batch_size=128, train_size=1.0, accelerator="gpu" if device == "cuda" else "cpu",
                enable_progress_bar=False, early_stopping=False, check_val_every_n_epoch=None, callbacks=[timer])
    t = sum(timer.times[1:]); n = md2.n_obs
    return dict(cells_per_s=n * epochs / t, s_per_epoch=t / epochs, warmup_s=timer.times[0], peak_mb=mem.peak_mb, increase_mb=mem.increase_mb,
                params=sum(p.numel() for p in m.module.parameters()))


def bench_layers(atac, chrom, batch_size=200, reps=20):
    "Forward + backward of the first encoder and the last decoder layer: grouped (the package) against a loop of nn.Linear per chromosome."
    import scipy.sparse as sp
    from sc_integrate.nn import BlockSparseLinear, BlockLinear
    X = sp.csr_matrix(atac.X[:batch_size]); X.data[:] = 1
    ind, ptr = torch.as_tensor(X.indices, dtype=torch.long), torch.as_tensor(X.indptr, dtype=torch.long)
    xd = torch.as_tensor(X.toarray(), dtype=torch.float32)
    C = int(chrom.max()) + 1; cols = [np.flatnonzero(chrom == c) for c in range(C)]
    enc, dec = BlockSparseLinear(chrom, 64), BlockLinear(chrom, 64)
    enc_loop = torch.nn.ModuleList([torch.nn.Linear(len(c), 64) for c in cols]); dec_loop = torch.nn.ModuleList([torch.nn.Linear(64, len(c)) for c in cols])
    h = torch.randn(batch_size, C * 64)
    order = torch.as_tensor(np.argsort(np.concatenate(cols)))
    xs = [xd[:, torch.as_tensor(c)] for c in cols]          # the loop's input split per chromosome (outside the timing, in its favour)
    def t(fn):
        fn(); s = time.perf_counter()
        for _ in range(reps): fn()
        return (time.perf_counter() - s) / reps * 1000
    res = {"encoder grouped (sparse)": t(lambda: enc(ind, ptr).sum().backward()),
           "encoder loop (dense per chromosome)": t(lambda: torch.cat([l(x) for l, x in zip(enc_loop, xs)], 1).sum().backward()),
           "decoder grouped": t(lambda: dec(h).sum().backward()),
           "decoder loop": t(lambda: torch.cat([l(h[:, 64 * i:64 * i + 64]) for i, l in enumerate(dec_loop)], 1)[:, order].sum().backward())}
    return res


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3); p.add_argument("--cells", type=int, default=None)
    p.add_argument("--device", default="auto"); p.add_argument("--no-multivi", action="store_true"); p.add_argument("--no-loop", action="store_true")
    args = p.parse_args()
    from sc_integrate.core import get_device
    dev = get_device(args.device).type
    import scvi, sc_integrate
    print(f"torch {torch.__version__}, scvi-tools {scvi.__version__}, sc_integrate {sc_integrate.__version__}, device {dev}, "
          f"threads {torch.get_num_threads()}, {time.strftime('%Y-%m-%d')}")
    mdata = load(args.cells)
    print(f"SNARE-seq: {mdata.mod['atac'].n_obs} cells, {mdata.mod['rna'].n_vars} genes, {mdata.mod['atac'].n_vars} regions, {args.epochs} timed epochs")
    rows = {"SAILERX (per-chromosome)": bench_sailerx(load(args.cells), args.epochs, dev, True),
            "SAILERX (plain blocks)": bench_sailerx(load(args.cells), args.epochs, dev, False)}
    if not args.no_multivi: rows["MultiVI"] = bench_multivi(mdata, args.epochs, dev)
    df = pd.DataFrame(rows).T
    if "MultiVI" in rows: df["x MultiVI"] = df["cells_per_s"] / rows["MultiVI"]["cells_per_s"]
    print(df.round(2).to_string())
    if not args.no_loop:
        from sc_integrate.models.sailerx import SAILERX
        m = load(args.cells); SAILERX.setup_mudata(m, batch_key="batch"); chrom = SAILERX(m).chromosome_ids()
        print("per-chromosome layers, forward + backward, ms per minibatch of 200:")
        for k, v in bench_layers(m.mod["atac"], chrom).items(): print(f"  {k}: {v:.2f}")


if __name__ == "__main__":
    main()

"""Peer benchmark: the reference SAILER and SAILERX code (github.com/uci-cbcl/SAILER, github.com/uci-cbcl/SAILERX), run as published.

Neither is a package: each is a folder of scripts (`trainer.py`, `model.py`, `dataset.py`) whose datasets read fixed
files under `./data/`. This runner writes our AnnData in those files' formats into a temporary folder, makes it the
working directory, puts the checkout first on `sys.path`, and calls the reference's own classes: SAILER's
`Trainer(args)` -> `warm_up()` -> `inv_train()`, then its model's encoder (its `PBMC` dataset, `data/PBMC/merge_matrix_70k.npz`
+ `batch_label.txt`), SAILERX's `PlTrainer(args)` -> `warm_up()` -> `train()` -> `encode_latent()` (its `ChSplitDS`,
`data/<name>.h5` with groups `pca`, `atac` (CSR, `chrom_size`) and `cells`). Each runs in a fresh subprocess: both
checkouts name their modules `trainer`, `model` and `dataset`.

Get the code: `git clone https://github.com/uci-cbcl/SAILER` (and `.../SAILERX`), then pass the folder as `repo`
(or set `SAILER_REPO` / `SAILERX_REPO`).

Set or stubbed in the runner process only (nothing in the checkout is modified):
- `np.bool` and `np.float` (removed in NumPy 1.24; the datasets' `__getitem__` use them) are set to `bool` and `float`.
- CPU: SAILER's `Trainer` takes a list of CUDA devices (`cuda_dev`, default `[0]`) and calls `torch.cuda.set_device`
  when it is non-empty, while it also divides by its length. It gets a one-element list that is false in `if`
  (`_NoCuda`), so the device is the CPU; `nn.DataParallel` then wraps the model without devices. SAILERX takes
  `cuda_dev=None` (its own CPU setting).
- `trainer.DataLoader` is wrapped to `num_workers=0, pin_memory=False` (SAILER asks for 3 workers per device; on the
  project's 2-core machine they only compete with the training thread). Batches, shuffling and `drop_last` are the
  reference's.
- The schedule constants `trainer.WARM_UP` and `trainer.CYCLE` (10 and 100 epochs for the reference's 400) are set
  from `warmup` and `cycle`, so a short run has the same shape as ours.
- Encoding: SAILER's `encode_adv` stops at `labels = labels + l` (current torch collates the string labels into a
  tuple), so the runner encodes as it does: the model's `forward(x, d, no_rec=True)` in eval mode, cells in order.
- The batch covariate: the reference SAILER takes batch as one scalar column (two batches at most). With `batch=`
  of two levels it gets their 0/1 codes as its labels file (`sample_batch=True`); without, depth is its only
  confounder. SAILERX's paired mode is run without batch.
Everything else is the reference's: architecture, loss (z sampled with sd exp(log var), the BCE weighted uniformly
by `pos_w`, the pair-mean MI penalty, SAILERX's 6000 x alignment), Adam with weight decay 5e-4 and the 0.995 decay.
"""
from __future__ import annotations
import json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve()


class _NoCuda(list):
    "One 'device' for SAILER's arithmetic, false in `if args.cuda_dev:` so the reference stays on the CPU."
    def __bool__(self): return False


def _repo(repo, env):
    p = Path(repo or os.environ.get(env, ""))
    if not (p / "trainer.py").is_file():
        raise FileNotFoundError(f"no reference checkout at {str(p)!r}: clone it (see bench/peer_sailer.py) and pass repo= or set {env}.")
    return p.resolve()


def _binary_csr(X) -> sp.csr_matrix:
    X = sp.csr_matrix(X, dtype=np.float32); X.sum_duplicates(); X.eliminate_zeros(); X.data[:] = 1.0
    return X


def _check_depth(Xb):
    n0 = int((np.diff(Xb.indptr) == 0).sum())
    if n0: raise ValueError(f"{n0} cells have no open peaks: the reference takes log(depth); drop them first.")
    return Xb


def available(repo=None, env="SAILER_REPO") -> str | None:
    "None if a checkout is found, else a one-line reason."
    try: _repo(repo, env)
    except FileNotFoundError as e: return str(e)
    return None


def _run_child(kind, payload: dict) -> dict:
    try: return _run_in(kind, payload)
    finally: shutil.rmtree(payload["workdir"], ignore_errors=True)     # the data files written for the reference


def _run_in(kind, payload: dict) -> dict:
    with tempfile.TemporaryDirectory() as d:
        spec = Path(d) / "spec.json"; spec.write_text(json.dumps(payload))
        out = subprocess.run([sys.executable, str(HERE), kind, str(spec)], capture_output=True, text=True)
        res = Path(d) / "latent.npy"
        if out.returncode != 0 or not res.is_file():
            raise RuntimeError(f"reference {kind} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
        meta = json.loads((Path(d) / "meta.json").read_text())
        meta["latent"] = np.load(res)
        return meta


def train_reference_sailer(X, *, batch=None, repo=None, epochs=30, warmup=3, cycle=10, lr=1e-3, batch_size=100, pos_w=30.0,
                           z_dim=10, lambda_=1.0, seed=0, threads=None) -> dict:
    "The reference SAILER on a cells x peaks matrix `X` (binarised), with `batch` (two levels at most) or depth alone: `latent` (posterior means, cells in order) and `seconds` (warm-up + training)."
    r = _repo(repo, "SAILER_REPO")
    codes = None
    if batch is not None:
        levels, codes = np.unique(np.asarray(batch).astype(str), return_inverse=True)
        if len(codes) != X.shape[0]: raise ValueError(f"batch has {len(codes)} entries for {X.shape[0]} cells.")
        if len(levels) > 2:
            raise ValueError(f"the reference SAILER takes batch as one scalar column, so two batches at most; found {len(levels)}: pass batch=None (depth alone).")
    Xb = _check_depth(_binary_csr(X))
    labels = [f"c{i}" for i in range(Xb.shape[0])] if codes is None else [str(c) for c in codes]
    d = tempfile.mkdtemp(prefix="sailer_ref_")
    (Path(d) / "data" / "PBMC").mkdir(parents=True)
    sp.save_npz(Path(d) / "data" / "PBMC" / "merge_matrix_70k.npz", Xb)
    (Path(d) / "data" / "PBMC" / "batch_label.txt").write_text("label\n" + "\n".join(labels) + "\n")
    return _run_child("sailer", dict(repo=str(r), workdir=d, batch=codes is not None, epochs=epochs, warmup=warmup, cycle=cycle, lr=lr, batch_size=batch_size,
                                     pos_w=pos_w, z_dim=z_dim, lambda_=lambda_, seed=seed, threads=threads))


def train_reference_sailerx(X, ref, rna_depth, chrom, *, repo=None, epochs=50, warmup=5, cycle=25, lr=1e-4, batch_size=200,
                            pos_w=20.0, z_dim=50, lambda_=1.0, gamma=6000.0, seed=0, threads=None) -> dict:
    "The reference SAILERX (paired mode) on ATAC `X`, the RNA embedding `ref` (cells x d), RNA depth per cell and each peak's chromosome: `latent` and `seconds`."
    import h5py
    r = _repo(repo, "SAILERX_REPO")
    Xb = _check_depth(_binary_csr(X)); chrom = np.asarray(chrom).astype(str)
    if len(chrom) != Xb.shape[1]: raise ValueError(f"chrom has {len(chrom)} entries for {Xb.shape[1]} peaks.")
    names, codes = np.unique(chrom, return_inverse=True)
    order = np.argsort(codes, kind="stable")                  # peaks grouped by chromosome, as ChSplitDS's chrom_size expects
    Xs = Xb[:, order].tocsr(); Xs.sort_indices()
    sizes = np.bincount(codes, minlength=len(names)).astype(np.int64)
    d = tempfile.mkdtemp(prefix="sailerx_ref_"); (Path(d) / "data").mkdir()
    with h5py.File(Path(d) / "data" / "snare.h5", "w") as f:
        f.create_dataset("pca/data", data=np.asarray(ref, dtype=np.float64))
        g = f.create_group("atac")
        g.create_dataset("data", data=Xs.data); g.create_dataset("indices", data=Xs.indices); g.create_dataset("indptr", data=Xs.indptr)
        g.attrs["shape"] = Xs.shape; g.create_dataset("chrom_size", data=sizes)
        c = f.create_group("cells")
        c.create_dataset("labels", data=np.array([f"c{i}".encode() for i in range(Xs.shape[0])]))
        c.create_dataset("rna_depth", data=np.asarray(rna_depth, dtype=np.float64))
    return _run_child("sailerx", dict(repo=str(r), workdir=d, epochs=epochs, warmup=warmup, cycle=cycle, lr=lr, batch_size=batch_size,
                                      pos_w=pos_w, z_dim=z_dim, lambda_=lambda_, gamma=gamma, seed=seed, threads=threads))


def _child(kind, spec_path):
    spec = json.loads(Path(spec_path).read_text()); out_dir = Path(spec_path).parent
    np.bool = bool; np.float = float                         # removed in NumPy 1.24; the reference datasets use them
    import argparse, torch
    if spec.get("threads"): torch.set_num_threads(int(spec["threads"]))
    torch.manual_seed(spec["seed"]); np.random.seed(spec["seed"])
    sys.path.insert(0, spec["repo"]); os.chdir(spec["workdir"])
    import trainer as T
    from torch.utils.data import DataLoader
    T.DataLoader = lambda *a, **k: DataLoader(*a, **{**k, "num_workers": 0, "pin_memory": False})
    T.WARM_UP, T.CYCLE = int(spec["warmup"]), int(spec["cycle"])
    common = dict(name="run", log="train_log.csv", load_ckpt=False, sample_batch=False, max_epoch=int(spec["epochs"]), start_epoch=0,
                  batch_size=int(spec["batch_size"]), start_save=10**9, lr=float(spec["lr"]), pos_w=float(spec["pos_w"]), weight_decay=5e-4,
                  z_dim=int(spec["z_dim"]), out_every=10**9, ckpt_dir=str(Path(spec["workdir"]) / "models"), LAMBDA=float(spec["lambda_"]))
    if kind == "sailer":
        args = argparse.Namespace(**{**common, "sample_batch": bool(spec.get("batch"))}, cuda_dev=_NoCuda([0]), conv=False, model_type="inv", data_type="pbmc")
        solver = T.Trainer(args)
        t = time.time(); solver.warm_up(); solver.inv_train(); seconds = time.time() - t
        # encode_adv's own loop stops at `labels + l` (a list plus the tuple that current torch collates strings into):
        # the same encoding, its model's forward(no_rec=True) in eval mode over the cells in order
        solver.model.eval(); X = solver.dataset.data
        with torch.no_grad():
            Z = np.concatenate([solver.model(torch.as_tensor((X[i:i + 1000] > 0).toarray(), dtype=torch.float32), None, no_rec=True)[0].numpy()
                                for i in range(0, X.shape[0], 1000)])
    else:
        args = argparse.Namespace(**common, cuda_dev=None, train_type="multi", data_type="snare", GAMMA=float(spec["gamma"]))
        solver = T.PlTrainer(args)
        t = time.time(); solver.warm_up(); solver.train(); seconds = time.time() - t
        Z = solver.encode_latent(batch_size=2000).cpu().numpy()
    np.save(out_dir / "latent.npy", Z)
    (out_dir / "meta.json").write_text(json.dumps(dict(seconds=seconds, torch=torch.__version__, numpy=np.__version__, threads=torch.get_num_threads())))


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])

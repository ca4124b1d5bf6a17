"""SAILER against LSI as the signal per cell changes: the SNARE-seq cortex ATAC thinned or cut to fewer regions, and cells
simulated from its cell types' profiles at its depth and deeper.

Usage:  python bench/sailer_signal.py CONDITION [CONDITION ...] [--variant drop=0.4] [--epochs 30] [--warmup 3] [--cycle 10]
        [--threads T] [--cells N]

A condition is one of
  real            the data as `sailer_snare_sweep.py` loads it (10,309 cells, the 16,273 regions open in at least 10 cells)
  thin=F          every count thinned binomially to a fraction F (each read kept with probability F, seed 0); cells left
                  with no open region are dropped (the count is printed)
  regions=F       a random fraction F of the regions (seed 0); cells left with no open region are dropped
  sim=X           cells drawn from the profiles of the labelled types with at least 20 cells (`simulate.pseudobulk_profiles`,
                  the fraction of a type's cells open at each region), as many cells per type as in the data, every read in
                  the type's profile (rho 1, no background), fragments log-normal with the data's median count per cell times
                  X and the data's spread (`simulate.simulate_scatac`); one batch
SAILER is `sailer_snare_sweep.py`'s variant (default `drop=0.4`: the best setting found on the real data), trained as there
(30 epochs, warm-up 3, cycle 10, seed 0, batch as a confounder); LSI is muon's (10 components after the first). Both are
scored by `compare_sailer_reference.score` (Leiden NMI over resolutions 0.2-2.0 on the 15-NN graph, at resolution 1.0 and at
as many clusters as labelled types; MI with log depth). The last column is SAILER's best NMI minus LSI's.
"""
from __future__ import annotations
import argparse, platform, sys, time, warnings
from importlib.metadata import version
from pathlib import Path
import numpy as np, pandas as pd, scipy.sparse as sp, torch

sys.path.insert(0, str(Path(__file__).parent))
from compare_sailer_reference import load, score, thin
from sailer_snare_sweep import parse, fit
from sc_integrate.benchmark import lsi_baseline


def drop_empty(atac):
    "`atac` without the cells that have no open region, and how many were dropped."
    keep = np.diff(sp.csr_matrix(atac.X).indptr) > 0
    return atac[keep].copy(), int((~keep).sum())


def condition(atac, cond:str):
    "The data set of one condition (see the module's docstring) and a note on it."
    kind, _, v = cond.partition("=")
    rng = np.random.default_rng(0)
    if kind == "real": return atac, "as loaded"
    if kind == "thin":
        f = float(v); b = atac.copy(); b.X = thin(atac.X, f); b, n = drop_empty(b)
        return b, f"each read kept with probability {f}; {n} cells left empty and dropped"
    if kind == "regions":
        f = float(v); cols = np.sort(rng.choice(atac.n_vars, int(round(f * atac.n_vars)), replace=False))
        b, n = drop_empty(atac[:, cols].copy())
        return b, f"{len(cols)} of {atac.n_vars} regions; {n} cells left empty and dropped"
    if kind == "sim":
        from sc_integrate.simulate import pseudobulk_profiles, simulate_scatac
        x = float(v); prof = pseudobulk_profiles(atac, "cell_type", min_cells=20)
        counts = atac.obs["cell_type"].astype(str).value_counts()
        total = np.asarray(atac.X.sum(1)).ravel()
        mu, sigma = float(np.median(total)) * x, float(np.log(total[total > 0]).std())
        b = simulate_scatac(prof, {t: int(counts[t]) for t in prof.index}, mu=mu, sigma=sigma, rho=1.0, background_in_peaks=0.0, seed=0)
        b, n = drop_empty(b)
        return b, f"{len(prof)} types, {b.n_obs} cells, median {mu:.0f} reads per cell (sigma {sigma:.2f}); {n} empty cells dropped"
    raise SystemExit(f"unknown condition {cond!r}: real, thin=F, regions=F or sim=X")


def scores(Z, atac) -> dict:
    "`compare_sailer_reference.score`, its 'NMI (N clusters)' renamed 'NMI (as many clusters as types)'."
    return {("NMI (as many clusters as types)" if k.endswith(" clusters)") else k): v for k, v in score(Z, atac).items()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("conditions", nargs="+")
    p.add_argument("--variant", default="drop=0.4")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--cycle", type=int, default=10)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--cells", type=int, default=None, help="a random subset of the cells (a quick check)")
    a = p.parse_args()
    spec = parse(a.variant)
    for cond in a.conditions:
        kind, _, v = cond.partition("=")
        if kind not in ("real", "thin", "regions", "sim") or (kind != "real") != bool(v):
            raise SystemExit(f"unknown condition {cond!r}: real, thin=F, regions=F or sim=X")
    if a.threads: torch.set_num_threads(a.threads)
    warnings.filterwarnings("ignore")
    atac = load(a.cells).mod["atac"]
    print(f"SAILER {a.variant}, {a.epochs} epochs (warm-up {a.warmup}, cycle {a.cycle}); {torch.get_num_threads()} threads on "
          f"{platform.machine()}; " + ", ".join(f"{q} {version(q)}" for q in ("sc-integrate", "torch", "muon")), flush=True)
    rows = []
    for cond in a.conditions:
        b, note = condition(atac, cond)
        nnz = np.diff(sp.csr_matrix(b.X).indptr)
        print(f"{cond}: {b.n_obs} cells x {b.n_vars} regions, median {np.median(nnz):.0f} open per cell; {note}", flush=True)
        m, t = fit(b, spec, a.epochs, a.warmup, a.cycle)
        s_sailer = scores(m.get_latent_representation(), b)
        s_lsi = scores(lsi_baseline(b, n_comps=10), b)
        for name, s in (("SAILER", s_sailer), ("LSI", s_lsi)):
            rows.append({"condition": cond, "embedding": name, "median open": float(np.median(nnz)), **s, "train s": t if name == "SAILER" else np.nan})
        print(cond, "SAILER", {k: round(float(x), 3) for k, x in s_sailer.items()}, "LSI", {k: round(float(x), 3) for k, x in s_lsi.items()}, flush=True)
    df = pd.DataFrame(rows).set_index(["condition", "embedding"])
    best = df["NMI (best)"].unstack()
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("\n" + df.round(3).to_string())
        print("\nSAILER minus LSI, best NMI:\n" + (best["SAILER"] - best["LSI"]).reindex(a.conditions).round(3).to_string())


if __name__ == "__main__":
    main()

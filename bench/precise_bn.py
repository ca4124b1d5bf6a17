"""What `precise_bn` (BatchNorm statistics recomputed after training, dropout off) changes, per model, on each model's tutorial data.

Usage:  python bench/precise_bn.py CASE [CASE ...] [--seeds 0,1,2] [--leiden-seeds 4] [--threads 2] [--sailer-epochs 30,3,10]

Each training seed trains one model; its latent is scored with the running statistics training left, then
`model.trainer.recalibrate_batchnorm()` (what `train(precise_bn=True)` runs at the end of training) recomputes them and the
latent is scored again. The weights are the same in both rows, so the differences are paired.

Cases:
  sailer-granja[:VARIANT]  SAILER on the Granja 2019 subset (600 cells x 5,000 peaks), 30 epochs (warm-up 3, cycle 10), a
                           `sailer_snare_sweep.py` variant (default drop=0.4+depthonly, the tutorial's best Granja row); Leiden
                           NMI (best over resolutions 0.2-2.0 / at 1.0 / at 6 clusters), mean over Leiden seeds, and MI with depth;
                           `--sailer-epochs 400,10,100` trains the thesis' schedule instead (epochs, warm-up, cycle)
  sailer-snare[:VARIANT]   SAILER on the SNARE-seq cortex ATAC (10,309 cells, the 16,273 regions open in >= 10 cells), the same
                           schedule and scoring (23 clusters), default variant drop=0.4
  piano-pancreas           PIANO as the `piano_pancreas` tutorial (Baron human, 2,142 cells, donor as batch, no adversary,
                           200 epochs, lr 2e-4, KL warm-up 400 epochs); `score_embeddings` with the "piano" metrics
  sysvi-pancreas           sysVI VAMP+CYC as the `sysvi_pancreas` tutorial (Baron human + mouse, species as system, donor as
                           covariate, 150 epochs); iLISI and NMI (fixed resolution) on standardised dimensions, as that tutorial
"""
from __future__ import annotations
import argparse, platform, sys, time, warnings
from importlib.metadata import version
from pathlib import Path
import numpy as np, pandas as pd, torch

sys.path.insert(0, str(Path(__file__).parent))


def both_latents(m):
    "The latent with the running statistics training left and after `recalibrate_batchnorm()`; the minibatches and seconds it took."
    lat = {"training statistics": m.get_latent_representation()}
    t0 = time.time(); n = m.trainer.recalibrate_batchnorm(); tr = time.time() - t0
    lat["recalibrated"] = m.get_latent_representation()
    return lat, n, tr


def sailer_case(data:str, variant:str, seeds, n_leiden:int, schedule=(30, 3, 10)) -> pd.DataFrame:
    from sailer_snare_sweep import fit, parse, leiden_seeds, load_granja
    from compare_sailer_reference import load
    from sc_integrate.metrics import mutual_information
    atac = load_granja() if data == "granja" else load(None).mod["atac"]
    depth = np.log(np.asarray((atac.X > 0).sum(1)).ravel())
    rows = []
    for seed in seeds:
        s = parse(variant); s["seed"] = str(seed)
        m, t = fit(atac, s, *schedule)
        lat, n, tr = both_latents(m)
        sc = leiden_seeds(lat, atac, n_leiden)
        for name, Z in lat.items():
            r = {c.replace(" mean", ""): v for c, v in sc.loc[name].items() if c.endswith(" mean")}
            rows.append({"seed": seed, "statistics": name, **r, "MI depth": mutual_information(Z, depth), "train s": t, "recalibration s": tr, "minibatches": n})
        print(pd.DataFrame(rows[-2:]).round(3).to_string(index=False), flush=True)
    return pd.DataFrame(rows)


def piano_case(seeds, *_) -> pd.DataFrame:
    from sc_integrate.datasets import baron_human_pancreas
    from sc_integrate.models.piano import PIANO
    from sc_integrate.metrics import score_embeddings
    rows = []
    for seed in seeds:
        a = baron_human_pancreas(); PIANO.setup_anndata(a, layer="counts", batch_key="donor", labels_key="cell_type")
        m = PIANO(a, seed=seed, adv_weight=0.0)
        t0 = time.time(); m.train(max_epochs=200, progress=False, max_beta=1.0, n_epochs_kl_warmup=400, lr=2e-4); t = time.time() - t0
        lat, n, tr = both_latents(m)
        sc = score_embeddings(lat, a.obs["donor"], a.obs["cell_type"], "piano").drop(columns="time_s", errors="ignore")
        for name in lat: rows.append({"seed": seed, "statistics": name, **sc.loc[name].to_dict(), "train s": t, "recalibration s": tr, "minibatches": n})
        print(pd.DataFrame(rows[-2:]).round(3).to_string(index=False), flush=True)
    return pd.DataFrame(rows)


def sysvi_case(seeds, *_) -> pd.DataFrame:
    from sc_integrate.datasets import baron_cross_species
    from sc_integrate.benchmark import log_normalized
    from sc_integrate.models.sysvi import SysVI, SYSVI_PRESETS
    from sc_integrate.metrics import score_embedding
    base = baron_cross_species(download=False); base.layers["lognorm"] = log_normalized(base, "counts")
    rows = []
    for seed in seeds:
        a = base.copy()
        SysVI.setup_anndata(a, layer="lognorm", batch_key="species", categorical_covariate_keys=["donor"], labels_key="cell_type")
        m = SysVI(a, seed=seed, **SYSVI_PRESETS["VAMP+CYC"])
        t0 = time.time(); m.train(max_epochs=150, progress=False); t = time.time() - t0
        lat, n, tr = both_latents(m)
        for name, Z in lat.items():
            v, _ = score_embedding(Z, a.obs["species"], a.obs["cell_type"], ["ilisi", "nmi_fixed"], standardize_dims=True)
            rows.append({"seed": seed, "statistics": name, **{k: x for k, x in v.items() if k != "time_s"}, "train s": t, "recalibration s": tr, "minibatches": n})
        print(pd.DataFrame(rows[-2:]).round(3).to_string(index=False), flush=True)
    return pd.DataFrame(rows)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cases", nargs="+")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--leiden-seeds", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sailer-epochs", default="30,3,10", help="SAILER's epochs, warm-up epochs and cycle epochs")
    a = p.parse_args()
    warnings.filterwarnings("ignore"); torch.set_num_threads(a.threads)
    seeds = [int(s) for s in a.seeds.split(",")]
    print(f"torch {torch.__version__}, sc_integrate {version('sc_integrate')}, {platform.processor() or platform.machine()}, "
          f"threads {a.threads}, {time.strftime('%Y-%m-%d')}", flush=True)
    for case in a.cases:
        name, _, variant = case.partition(":")
        print(f"== {case}", flush=True)
        if name in ("sailer-granja", "sailer-snare"): df = sailer_case(name.split("-")[1], variant or ("drop=0.4+depthonly" if name == "sailer-granja" else "drop=0.4"), seeds, a.leiden_seeds, tuple(int(x) for x in a.sailer_epochs.split(",")))
        elif name == "piano-pancreas": df = piano_case(seeds)
        elif name == "sysvi-pancreas": df = sysvi_case(seeds)
        else: raise SystemExit(f"unknown case {case!r}; see the usage above")
        num = [c for c in df.columns if c not in ("seed", "statistics", "train s", "recalibration s", "minibatches")]
        wide = df.pivot(index="seed", columns="statistics", values=num)
        diff = (wide.xs("recalibrated", axis=1, level=1) - wide.xs("training statistics", axis=1, level=1))
        print("mean over seeds:"); print(df.groupby("statistics")[num].mean().round(3).to_string())
        print("recalibrated - training statistics, per seed:"); print(diff.round(3).to_string())
        print(f"recalibration took {df['recalibration s'].mean():.1f} s ({int(df['minibatches'].iloc[0])} minibatches); training {df['train s'].mean():.0f} s", flush=True)


if __name__ == "__main__":
    main()

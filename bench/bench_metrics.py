"""Time sc_integrate's metric suite against scib-metrics' Benchmarker on the same embedding, in one run.

    python bench/bench_metrics.py                 # 20k and 100k cells
    python bench/bench_metrics.py --cells 20000   # one size
    python bench/bench_metrics.py --own-only      # only our own metrics against the kNN graph (no Benchmarker)

The embedding is synthetic (30 dims, 12 cell types, 4 batches with a shift); timings do not depend on its biology.
Both sides compute the same scib metrics (Benchmarker's defaults: isolated labels, k-means NMI/ARI, label silhouette,
cLISI, BRAS, iLISI, kBET per label, graph connectivity, PCR comparison). JIT compilation (numba, JAX) is warmed up on a
small input first, so the times are steady-state. Then our own metrics (not in scib-metrics) are timed one by one next
to the cost of the kNN graph they reuse; Moran's I is timed on synthetic expression (200 genes driven by the embedding)
in (batch, cell type) groups, its pre-integration reference built once (reported) and its per-embedding score timed.
"""
import argparse, platform, time, warnings
import numpy as np, pandas as pd, torch
import anndata as ad
import scib_metrics
from scib_metrics.benchmark import Benchmarker
from sc_integrate import metrics as M

warnings.filterwarnings("ignore")

def synthetic(n, d=30, n_types=12, n_batches=4, seed=0):
    rng = np.random.default_rng(seed)
    lab = rng.integers(0, n_types, n); bat = rng.integers(0, n_batches, n)
    centres = rng.normal(0, 3, (n_types, d)); shifts = rng.normal(0, 1, (n_batches, d))
    X = (centres[lab] + shifts[bat] + rng.normal(size=(n, d))).astype(np.float32)
    pre = (X + 2 * shifts[bat] + rng.normal(size=(n, d))).astype(np.float32)
    return X, pre, np.array([f"t{i}" for i in lab]), np.array([f"b{i}" for i in bat])

def run_scib(X, pre, lab, bat):
    a = ad.AnnData(np.zeros((len(X), 1), np.float32), obs=pd.DataFrame({"b": bat, "l": lab}, index=[str(i) for i in range(len(X))]))
    a.obsm["X_emb"] = X; a.obsm["X_pre"] = pre
    bm = Benchmarker(a, batch_key="b", labels_key="l", embedding_obsm_keys=["X_emb"], pre_integrated_embedding_obsm_key="X_pre",
                     n_jobs=-1, progress_bar=False)
    t0 = time.perf_counter(); bm.prepare(); t_nn = time.perf_counter() - t0
    bm.benchmark(); t = time.perf_counter() - t0
    return t, t_nn, bm.get_results(min_max_scale=False, clean_names=False)

def run_ours(X, pre, lab, bat):
    t0 = time.perf_counter()
    df = M.score_embeddings({"X_emb": X}, bat, lab, metrics="scib", pre=pre)
    return time.perf_counter() - t0, df.attrs["times"]["X_emb"]["neighbors"], df

def own_metrics(X, lab, bat, seed=0):
    "Seconds of each metric we add, on the kNN graph already built."
    out = {}
    t = time.perf_counter(); nn = M.neighbors(X, 90); out["kNN graph (90, exact)"] = time.perf_counter() - t
    nn15 = nn.subset_neighbors(15)
    t = time.perf_counter(); M.nmi_fixed_jaccard(nn15, lab); out["NMI-fixed + Jaccard (Leiden r=2)"] = time.perf_counter() - t
    t = time.perf_counter(); M.batch_mixing(nn, bat, 50); out["batch mixing proportions (k=50)"] = time.perf_counter() - t
    t = time.perf_counter(); M.mutual_information(X, bat); out["MI latent vs batch (kNN, 30 dims)"] = time.perf_counter() - t
    rng = np.random.default_rng(seed)
    expr = np.log1p(rng.poisson(np.exp(np.clip(X @ rng.normal(0, 0.15, (X.shape[1], 200)), -5, 3)))).astype(np.float32)
    t = time.perf_counter(); ref = M.moran_reference(expr, bat, lab, min_cells=max(20, min(200, len(X) // 100))); t_ref = time.perf_counter() - t
    t = time.perf_counter(); ref.score(X); out[f"Moran's I score ({len(ref.groups)} groups)"] = time.perf_counter() - t
    out["Moran's I reference (once per dataset)"] = t_ref
    t = time.perf_counter(); M.silhouette_samples(X, lab); out["label silhouette (all cells, shared)"] = time.perf_counter() - t
    return out

def main():
    p = argparse.ArgumentParser(); p.add_argument("--cells", type=int, nargs="*", default=[20_000, 100_000])
    p.add_argument("--own-only", action="store_true", help="time only our own metrics against the kNN graph"); args = p.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, scib-metrics {scib_metrics.__version__}")
    w = synthetic(2000, seed=1)
    if not args.own_only: run_scib(*w); run_ours(*w)          # warm up numba and JAX compilation
    own_metrics(w[0], w[2], w[3])                               # warm up the clustering and neighbour code
    rows = []
    for n in args.cells:
        X, pre, lab, bat = synthetic(n)
        if args.own_only:
            own = own_metrics(X, lab, bat); knn = own.pop("kNN graph (90, exact)")
            print(f"\n## {n:,} cells: our own metrics vs the kNN graph they reuse ({knn:.1f} s)")
            for k, v in own.items(): print(f"  {k:40s} {v:7.2f} s  ({v / knn:.2f}x the kNN graph)")
            rows.append(dict(cells=n, knn_s=knn, **own)); continue
        t_s, nn_s, res_s = run_scib(X, pre, lab, bat)
        t_o, nn_o, res_o = run_ours(X, pre, lab, bat)
        # the same metrics, the values side by side
        names = {"isolated_labels": "isolated_labels", "nmi_ari_cluster_labels_kmeans_nmi": "nmi_kmeans", "nmi_ari_cluster_labels_kmeans_ari": "ari_kmeans",
                 "silhouette_label": "silhouette_label", "clisi_knn": "clisi", "bras": "bras", "ilisi_knn": "ilisi", "kbet_per_label": "kbet",
                 "graph_connectivity": "graph_connectivity", "pcr_comparison": "pcr_comparison"}
        diff = max(abs(float(res_s.loc["X_emb", k]) - float(res_o.loc["X_emb", v])) for k, v in names.items())
        print(f"\n## {n:,} cells")
        print(f"scib-metrics Benchmarker: {t_s:8.1f} s  (neighbours {nn_s:.1f} s, pynndescent)")
        print(f"sc_integrate suite:       {t_o:8.1f} s  (neighbours {nn_o:.1f} s, exact)")
        print(f"speed-up (Benchmarker / ours): {t_s / t_o:.2f}x   largest difference of a metric value: {diff:.3f}")
        print("per-metric seconds (ours):", {k: round(v, 2) for k, v in res_o.attrs["times"]["X_emb"].items()})
        own = own_metrics(X, lab, bat)
        knn = own.pop("kNN graph (90, exact)")
        print(f"our own metrics vs the kNN graph they reuse ({knn:.1f} s):")
        for k, v in own.items(): print(f"  {k:40s} {v:7.2f} s  ({v / knn:.2f}x the kNN graph)")
        rows.append(dict(cells=n, benchmarker_s=t_s, ours_s=t_o, ratio=t_s / t_o, knn_s=knn, **{k: v for k, v in own.items()}))
    print("\n" + pd.DataFrame(rows).round(2).to_string(index=False))

if __name__ == "__main__": main()

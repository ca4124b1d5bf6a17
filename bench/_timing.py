"""Timing helpers shared by the benchmark scripts."""
from __future__ import annotations
import time
import numpy as np


def lightning_epoch_timer():
    "A Lightning callback that records the wall time of each training epoch, so scvi-tools' epochs are timed as ours are."
    from lightning.pytorch.callbacks import Callback

    class EpochTimer(Callback):
        def __init__(self): self.times = []
        def on_train_epoch_start(self, trainer, pl_module): self._t0 = time.perf_counter()
        def on_train_epoch_end(self, trainer, pl_module): self.times.append(time.perf_counter() - self._t0)
    return EpochTimer()


def print_rounds(rounds:list, ours:str, ref:str):
    "Print each round's throughput ratio of `ours` to `ref` and their median (rounds: one {method: result} dict each)."
    ratios = [r[ours]["cells_per_s"] / r[ref]["cells_per_s"] for r in rounds if ours in r and ref in r]
    if len(ratios) > 1:
        print(f"\n{ours} / {ref}, round by round: {', '.join(f'{x:.2f}x' for x in ratios)}; median {np.median(ratios):.2f}x")
    return ratios

"""Aggregate per-seed results and draw comparative plots (best metric so far vs time)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

GRID_POINTS = 200


def load_runs(run_dirs: Sequence[Path]) -> pd.DataFrame:
    """Long table of all runs: one row per result, with benchmark, method and seed columns.

    A directory without ``metadata.json`` (written last) is an incomplete run and an error.
    """
    frames = []
    for run_dir in run_dirs:
        run_dir = Path(run_dir)
        if not (run_dir / "metadata.json").exists():
            raise ValueError(f"incomplete run (no metadata.json): {run_dir}")
        meta = json.loads((run_dir / "metadata.json").read_text())
        df = pd.read_csv(run_dir / "results.csv.zip")
        metric = meta["metric"]
        frames.append(
            pd.DataFrame(
                {
                    "benchmark": meta["benchmark"],
                    "method": meta["method"],
                    "seed": meta["seed"],
                    "trial_id": df["trial_id"],
                    "st_tuner_time": df["st_tuner_time"],
                    "st_decision": df["st_decision"],
                    "resource": df[meta["resource_attr"]],
                    "metric": metric,
                    "mode": meta["mode"],
                    "value": df[metric],
                    "best": df[f"best_{metric}"],
                    **{c: df[c] for c in df.columns if c.startswith("num_at_level")},
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def best_so_far_on_grid(runs: pd.DataFrame, grid: np.ndarray) -> pd.DataFrame:
    """Best value so far of every (method, seed) at each grid time (NaN before any result)."""
    rows = []
    for (method, seed), g in runs.groupby(["method", "seed"], sort=True):
        times = g["st_tuner_time"].to_numpy()
        best = g["best"].to_numpy()
        index = np.searchsorted(times, grid, side="right") - 1
        values = np.where(index >= 0, best[np.clip(index, 0, None)], np.nan)
        rows.append(pd.DataFrame({"method": method, "seed": seed, "time": grid, "best": values}))
    return pd.concat(rows, ignore_index=True)


def summarize(curves: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean and confidence interval (Student t) over seeds, per method and time."""
    grouped = curves.groupby(["method", "time"])["best"]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    t = stats.t.ppf(0.5 + confidence / 2, np.maximum(out["count"] - 1, 1))
    half = np.where(out["count"] > 1, t * out["std"] / np.sqrt(out["count"]), 0.0)
    out["lower"] = out["mean"] - half
    out["upper"] = out["mean"] + half
    return out


def final_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Final best value per method (mean, std over seeds) and average rank over seeds."""
    final = runs.groupby(["method", "seed"])["best"].last().reset_index()
    mode = runs["mode"].iloc[0]
    final["rank"] = final.groupby("seed")["best"].rank(ascending=(mode == "min"))
    table = final.groupby("method").agg(
        final_mean=("best", "mean"), final_std=("best", "std"), mean_rank=("rank", "mean"),
        num_seeds=("seed", "nunique"),
    )
    return table.sort_values("mean_rank").reset_index()


def plot_benchmark(runs: pd.DataFrame, out_png: Path, title: str) -> None:
    """Best metric so far vs simulated wall-clock time, mean +- 95% CI over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t_max = runs["st_tuner_time"].max()
    grid = np.linspace(t_max / GRID_POINTS, t_max, GRID_POINTS)
    summary = summarize(best_so_far_on_grid(runs, grid))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method, g in summary.groupby("method", sort=True):
        ax.plot(g["time"], g["mean"], label=str(method))
        ax.fill_between(g["time"], g["lower"], g["upper"], alpha=0.2)
    ax.set_xlabel("simulated wall-clock time (s)")
    ax.set_ylabel(f"best {runs['metric'].iloc[0]} so far")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)

"""Aggregate per-seed results; comparative plots and tables of one benchmark.

Figures of a benchmark (all drawn by :func:`plot_benchmark`): best metric so far against
simulated time (mean and 95 % CI over seeds) and the sizes of the rung levels over time (the
``num_at_level*`` extra-result columns of multi-fidelity methods); the final table ranks the
methods per seed.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

GRID_POINTS = 200
#: Extra-result columns holding the number of entries at a rung level.
RUNG_COLUMN = re.compile(r"^num_at_level(\d+)$")


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


def best_so_far_bands(runs: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """:func:`summarize` of the best-so-far curves on the plot grid, with the bands clipped to
    the values the runs reached.

    A t-interval over few seeds can reach values no configuration attains (83 % where the best
    run has 80 %); clipped, the bands cannot set the axis and flatten the part where methods
    differ.
    """
    curves = best_so_far_on_grid(runs, _grid(runs))
    summary = summarize(curves, confidence)
    reached_min, reached_max = curves["best"].min(), curves["best"].max()
    summary["lower"] = summary["lower"].clip(reached_min, reached_max)
    summary["upper"] = summary["upper"].clip(reached_min, reached_max)
    return summary


#: The y-axis of the best-so-far plot spans the mean curves from this share of the time on.
Y_FROM = 0.1


def y_limits(summary: pd.DataFrame) -> tuple[float, float]:
    """The y-range of the best-so-far plot: the mean curves from :data:`Y_FROM` of the time on,
    with a margin of a tenth of that range. The first seconds, where a few trials make the
    curves jump by far more than methods later differ, would otherwise set the scale."""
    later = summary[summary["time"] >= Y_FROM * summary["time"].max()]["mean"].dropna()
    if later.empty:
        later = summary["mean"].dropna()
    low, high = float(later.min()), float(later.max())
    margin = 0.1 * (high - low) or 0.05 * max(abs(high), 1e-12)
    return low - margin, high + margin


def final_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Final best value per method (mean, std over seeds) and average rank over seeds (rank 1
    is best), with the metric and whether higher or lower is better."""
    final = runs.groupby(["method", "seed"])["best"].last().reset_index()
    mode = runs["mode"].iloc[0]
    final["rank"] = final.groupby("seed")["best"].rank(ascending=(mode == "min"))
    table = final.groupby("method").agg(
        final_mean=("best", "mean"), final_std=("best", "std"), mean_rank=("rank", "mean"),
        num_seeds=("seed", "nunique"),
    )
    table = table.sort_values("mean_rank").reset_index()
    table.insert(1, "metric", runs["metric"].iloc[0])
    table.insert(2, "better", "higher" if mode == "max" else "lower")
    return table


def rung_columns(runs: pd.DataFrame) -> list[tuple[int, str]]:
    """(level, column) of the ``num_at_level*`` columns holding any value, lowest level first."""
    found = [(int(m.group(1)), c) for c in runs.columns if (m := RUNG_COLUMN.match(c))]
    return sorted((level, c) for level, c in found if runs[c].notna().any())


def rung_sizes_on_grid(runs: pd.DataFrame, grid: np.ndarray) -> pd.DataFrame:
    """Rung sizes of every (method, seed, level) at each grid time, 0 before the first record.

    Methods that do not record a level (no value in its column) have no rows for it.
    """
    rows = []
    for level, column in rung_columns(runs):
        for (method, seed), g in runs.groupby(["method", "seed"], sort=True):
            values = g[column]
            if values.isna().all():
                continue
            times = g["st_tuner_time"].to_numpy()
            sizes = values.ffill().fillna(0.0).to_numpy()
            index = np.searchsorted(times, grid, side="right") - 1
            rows.append(pd.DataFrame({
                "method": method, "seed": seed, "level": level, "time": grid,
                "size": np.where(index >= 0, sizes[np.clip(index, 0, None)], 0.0),
            }))
    if not rows:
        return pd.DataFrame(columns=["method", "seed", "level", "time", "size"])
    return pd.concat(rows, ignore_index=True)


def method_styles(methods: Iterable[object]) -> dict[str, dict[str, Any]]:
    """One colour, line style and marker per method, the same in every figure of a benchmark
    (the ten colours again with another line style beyond ten methods)."""
    import matplotlib

    colours = matplotlib.color_sequences["tab10"]
    linestyles = ["-", "--", ":", "-."]
    markers = "osD^vP*Xhp"
    return {
        m: {"color": colours[i % len(colours)],
            "linestyle": linestyles[i // len(colours) % len(linestyles)],
            "marker": markers[i % len(markers)], "label": m}
        for i, m in enumerate(sorted({str(m) for m in methods}))
    }


def _grid(runs: pd.DataFrame) -> np.ndarray:
    t_max = runs["st_tuner_time"].max()
    return np.linspace(t_max / GRID_POINTS, t_max, GRID_POINTS)


def companion_paths(best_so_far_png: Path) -> dict[str, Path]:
    """Where :func:`plot_benchmark` writes the figures that accompany the best-so-far plot.

    For ``<base>-best-so-far.png`` (or any ``<base>.png``): ``<base>-rung-sizes.png`` and the
    final table as ``<base>-final.html`` (for the Snakemake report).
    """
    path = Path(best_so_far_png)
    base = path.stem.removesuffix("-best-so-far")
    return {
        "rung_sizes": path.with_name(f"{base}-rung-sizes.png"),
        "final_html": path.with_name(f"{base}-final.html"),
    }


def plot_benchmark(runs: pd.DataFrame, out_png: Path, title: str) -> None:
    """All figures of one benchmark: best so far at ``out_png``, plus :func:`companion_paths`."""
    styles = method_styles(runs["method"].unique())
    others = companion_paths(out_png)
    plot_best_so_far(runs, out_png, title, styles=styles)
    plot_rung_sizes(runs, others["rung_sizes"], title, styles=styles)
    write_final_table_html(final_table(runs), others["final_html"], title)


def plot_best_so_far(
    runs: pd.DataFrame, out_png: Path, title: str,
    styles: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Best metric so far vs simulated wall-clock time, mean +- 95% CI over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = styles or method_styles(runs["method"].unique())
    summary = best_so_far_bands(runs)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method, g in summary.groupby("method", sort=True):
        style = styles[str(method)]
        ax.plot(g["time"], g["mean"], color=style["color"], linestyle=style["linestyle"],
                label=style["label"])
        ax.fill_between(g["time"], g["lower"], g["upper"], color=style["color"], alpha=0.2)
    ax.set_ylim(*y_limits(summary))
    ax.set_xlabel("simulated wall-clock time (s)")
    better = "higher" if runs["mode"].iloc[0] == "max" else "lower"
    ax.set_ylabel(f"best {runs['metric'].iloc[0]} so far ({better} is better)")
    ax.set_title(title)
    ax.legend(fontsize="small", ncol=2 if len(styles) > 8 else 1)
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)


def plot_rung_sizes(
    runs: pd.DataFrame, out_png: Path, title: str,
    styles: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Number of entries at each rung level over time: one panel per level, mean over seeds.

    Methods without ``num_at_level*`` values (e.g. random search) are left out; if no method
    records them, the figure says so.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = styles or method_styles(runs["method"].unique())
    sizes = rung_sizes_on_grid(runs, _grid(runs))
    levels = sorted(sizes["level"].unique())
    if not levels:
        fig, ax = plt.subplots(figsize=(7, 3))
        ax.axis("off")
        ax.text(0.5, 0.5, "No method records rung sizes (num_at_level* columns)\n"
                f"methods: {', '.join(sorted(map(str, runs['method'].unique())))}",
                ha="center", va="center", wrap=True)
        ax.set_title(title)
        fig.savefig(out_png, dpi=120)
        plt.close(fig)
        return
    ncols = min(len(levels), 3)
    nrows = math.ceil(len(levels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols + 1.5, 3.3 * nrows),
                             squeeze=False, layout="constrained")
    mean = sizes.groupby(["level", "method", "time"])["size"].mean().reset_index()
    for ax, level in zip(axes.flat, levels, strict=False):
        for method, g in mean[mean["level"] == level].groupby("method", sort=True):
            style = styles[str(method)]
            ax.plot(g["time"], g["size"], color=style["color"], linestyle=style["linestyle"],
                    label=style["label"])
        ax.set_title(f"rung level {level}")
        ax.set_xlabel("simulated wall-clock time (s)")
        ax.set_ylabel("entries (mean over seeds)")
    for ax in list(axes.flat)[len(levels):]:
        ax.axis("off")
    from matplotlib.lines import Line2D

    shown = sorted(mean["method"].astype(str).unique())
    handles = [Line2D([], [], color=styles[m]["color"], linestyle=styles[m]["linestyle"],
                      label=styles[m]["label"]) for m in shown]
    fig.legend(handles=handles, loc="outside right upper")
    fig.suptitle(f"{title}: rung sizes")
    fig.savefig(out_png, dpi=120)
    plt.close(fig)


def _metric_note(table: pd.DataFrame) -> str:
    if table.empty or "metric" not in table:
        return ""
    row = table.iloc[0]
    return html.escape(f" of {row['metric']} ({row['better']} is better; rank 1 is best)")


def write_final_table_html(table: pd.DataFrame, out_html: Path, title: str) -> None:
    """The final table as a small standalone HTML page (the Snakemake report shows it inline)."""
    body = table.to_html(index=False, float_format=lambda v: f"{v:.6g}", border=0,
                         na_rep="")
    Path(out_html).write_text(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif} table{border-collapse:collapse} "
        "th,td{padding:4px 10px;border-bottom:1px solid #ccc;text-align:right}"
        f"</style></head><body><h3>{html.escape(title)}: final values{_metric_note(table)}"
        f"</h3>\n{body}\n"
        "</body></html>\n"
    )

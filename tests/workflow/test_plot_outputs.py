"""The figures and tables the workflow's plot rule declares, from hand-made aggregates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hpo_core.experiments.analysis import (
    best_so_far_bands,
    best_so_far_on_grid,
    companion_paths,
    final_table,
    plot_benchmark,
    rung_sizes_on_grid,
    summarize,
    y_limits,
)


def aggregate(with_rungs: bool) -> pd.DataFrame:
    rows = []
    for method in ("RS", "ASHA"):
        for seed in (0, 1):
            for step, time in enumerate((10.0, 20.0, 30.0)):
                row = {"benchmark": "b", "method": method, "seed": seed, "trial_id": step,
                       "st_tuner_time": time, "metric": "error", "mode": "min",
                       "best": 1.0 / (step + 1 + seed)}
                if with_rungs and method == "ASHA":
                    row["num_at_level1"] = (step + 1) * (seed + 1)
                    row["num_at_level3"] = step
                rows.append(row)
    return pd.DataFrame(rows)


def test_rung_sizes_skip_methods_without_levels_and_start_at_zero() -> None:
    sizes = rung_sizes_on_grid(aggregate(with_rungs=True), np.array([5.0, 10.0, 25.0]))
    assert set(sizes["method"]) == {"ASHA"}
    level1 = sizes[sizes["level"] == 1].groupby("time")["size"].mean()
    # before the first record 0; then seeds 0 and 1 hold 1 and 2, later 2 and 4
    assert level1.to_dict() == {5.0: 0.0, 10.0: 1.5, 25.0: 3.0}
    assert sorted(sizes["level"].unique()) == [1, 3]
    assert rung_sizes_on_grid(aggregate(with_rungs=False), np.array([5.0])).empty


def test_plot_writes_the_declared_outputs_also_without_rung_columns(tmp_path: Path) -> None:
    for with_rungs in (True, False):
        png = tmp_path / f"b{with_rungs}-best-so-far.png"
        plot_benchmark(aggregate(with_rungs), png, title="b")
        others = companion_paths(png)
        assert others == {
            "rung_sizes": tmp_path / f"b{with_rungs}-rung-sizes.png",
            "final_html": tmp_path / f"b{with_rungs}-final.html",
        }
        assert png.stat().st_size > 10_000
        assert others["rung_sizes"].stat().st_size > 5_000
        table = others["final_html"].read_text()
        assert "<table" in table and "mean_rank" in table and "ASHA" in table


def test_bands_stay_within_the_values_the_runs_reached() -> None:
    runs = aggregate(with_rungs=False)
    runs.loc[runs["seed"] == 1, "best"] *= 3  # two seeds far apart: a wide t-interval
    reached = runs["best"]
    raw = summarize(best_so_far_on_grid(runs, np.linspace(3.0, 30.0, 10)))
    assert (raw["upper"] > reached.max()).any()  # what the clipping is for
    bands = best_so_far_bands(runs)
    assert bands["upper"].max() <= reached.max()
    assert bands["lower"].min() >= reached.min()
    bands = bands.dropna()  # before the first result
    assert len(bands) > 100
    assert ((bands["lower"] <= bands["mean"]) & (bands["mean"] <= bands["upper"])).all()


def test_the_final_table_names_the_metric_and_its_direction(tmp_path: Path) -> None:
    table = final_table(aggregate(with_rungs=False))
    assert list(table.columns[:3]) == ["method", "metric", "better"]
    assert set(table["metric"]) == {"error"} and set(table["better"]) == {"lower"}
    png = tmp_path / "b-best-so-far.png"
    plot_benchmark(aggregate(with_rungs=False), png, title="b")
    page = companion_paths(png)["final_html"].read_text()
    assert "final values of error (lower is better; rank 1 is best)" in page


def test_the_y_axis_spans_the_later_mean_curves() -> None:
    summary = pd.DataFrame({"time": [1.0, 50.0, 100.0], "mean": [66.0, 79.0, 80.0],
                            "lower": [60.0, 78.0, 79.5], "upper": [80.0, 80.0, 80.0]})
    low, high = y_limits(summary)
    assert (low, high) == pytest.approx((78.9, 80.1))

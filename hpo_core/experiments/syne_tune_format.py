"""Results Syne Tune 0.13's tools read: its metadata keys, its ``st_status`` column, its layout.

A run's ``metadata.json`` carries, beside hpo_core's own keys, those Syne Tune's
``ExperimentResult`` and ``load_experiments_df`` read (:func:`syne_tune_metadata`), and its
``results.csv.zip`` the ``st_status`` column (:func:`st_status`). :func:`export_syne_tune`
lays a results tree out as Syne Tune's benchmarking scripts do,
``<out>/<tag>/<method>-<seed>/<tuner_name>/`` (the layout ``ComparativeResults`` globs as
``<tag>/*/<tag>-*/metadata.json``), with hard links where possible (copies otherwise).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from hpo_core import space as sp

#: Syne Tune's names of a trial's status after a result (``syne_tune.backend.trial_status``).
ST_STATUS = {"CONTINUE": "InProgress", "PAUSE": "Paused", "STOP": "Stopped"}


def syne_tune_domain(domain: sp.Domain) -> dict[str, Any]:
    """A domain as Syne Tune's ``config_space_to_json_dict`` writes it."""
    uniform: dict[str, Any] = {"sampler_cls": "Uniform", "sampler_kwargs": {}}
    log = {"sampler_cls": "LogUniform", "sampler_kwargs": {"base": float(np.e)}}
    if isinstance(domain, sp.Uniform | sp.LogUniform):
        bounds = {"lower": domain.lower, "upper": domain.upper}
        return {"domain_cls": "Float", "domain_kwargs": bounds,
                **(log if isinstance(domain, sp.LogUniform) else uniform)}
    if isinstance(domain, sp.RandInt | sp.LogRandInt):
        bounds = {"lower": domain.lower, "upper": domain.upper}
        return {"domain_cls": "Integer", "domain_kwargs": bounds,
                **(log if isinstance(domain, sp.LogRandInt) else uniform)}
    if isinstance(domain, sp.Categorical):
        return {"domain_cls": "Categorical",
                "domain_kwargs": {"categories": list(domain.categories)}, **uniform}
    if isinstance(domain, sp.FiniteRange):
        return {"domain_cls": "FiniteRange", "domain_kwargs": {
            "lower": domain.lower, "upper": domain.upper, "log_scale": domain.log,
            "cast_int": domain.cast_int, "size": domain.size}}
    if isinstance(domain, sp.Ordinal):
        categories = list(domain.categories)
        if domain.kind == "equal":
            return {"domain_cls": "Ordinal", "domain_kwargs": {"categories": categories},
                    **uniform}
        return {"domain_cls": "OrdinalNearestNeighbor",
                "domain_kwargs": {"categories": categories, "log_scale": domain.kind == "nn-log"}}
    raise ValueError(f"no Syne Tune equivalent of domain {domain!r}")


def syne_tune_config_space(space: Mapping[str, Any]) -> str:
    """The JSON string Syne Tune's schedulers record as ``config_space`` in their metadata."""
    return json.dumps({name: syne_tune_domain(value) if isinstance(value, sp.Domain) else value
                       for name, value in space.items()})


def syne_tune_metadata(*, tag: str, method: str, scheduler_name: str, metric: str, mode: str,
                       config_space: Mapping[str, Any], created: datetime,
                       started: datetime) -> dict[str, Any]:
    """The metadata keys Syne Tune's ``Tuner`` writes and its result tools read."""
    return {
        "st_tuner_creation_timestamp": created.timestamp(),
        "st_tuner_start_timestamp": started.timestamp(),
        "metric_names": [metric],
        "metric_mode": mode,
        "algorithm": method,
        "tag": tag,
        "entrypoint": "hpo_core",
        "backend": "SimulatorBackend",
        "scheduler_name": scheduler_name,
        "config_space": syne_tune_config_space(config_space),
    }


def st_status(decisions: Any, resources: Any, max_resource: int) -> Any:
    """``st_status`` of each result: ``Completed`` at the maximum resource, otherwise from its
    decision: STOP ``Stopped``, PAUSE ``Paused``, CONTINUE ``InProgress``."""
    status = np.array([ST_STATUS[str(d)] for d in decisions], dtype=object)
    status[np.asarray(resources) >= max_resource] = "Completed"
    return status


def export_syne_tune(results: Path, out: Path) -> list[Path]:
    """Lay the runs under ``results`` (``<tag>/<benchmark>/<method>/<seed>/``, complete ones
    only) out as ``out/<tag>/<method>-<seed>/<tuner_name>/``; the run folders made.

    Raises:
        ValueError: If ``results`` holds no complete run, or a target already exists with
            other contents (nothing is overwritten).
    """
    made = []
    for metadata_path in sorted(Path(results).rglob("metadata.json")):
        run = metadata_path.parent
        if not (run / "results.csv.zip").exists():
            continue
        meta = json.loads(metadata_path.read_text())
        if "tuner_name" not in meta:
            continue
        target = (Path(out) / meta["experiment_tag"] / f"{meta['method']}-{meta['seed']}"
                  / meta["tuner_name"])
        target.mkdir(parents=True, exist_ok=True)
        for name in ("metadata.json", "results.csv.zip"):
            source, dest = run / name, target / name
            if dest.exists():
                if dest.read_bytes() != source.read_bytes():
                    raise ValueError(f"{dest} exists with other contents; not overwritten")
                continue
            try:
                os.link(source, dest)
            except OSError:
                shutil.copy2(source, dest)
        made.append(target)
    if not made:
        raise ValueError(f"no complete runs (metadata.json and results.csv.zip) under {results}")
    return made


def import_syne_tune(
    root: Path, results: Path, *, suffix: str = "", resource_attr: str | None = None
) -> list[Path]:
    """Turn the Syne Tune 0.13 runs under ``root`` (any folder holding ``metadata.json`` with
    ``st_tuner_creation_timestamp`` and a ``results.csv.zip``) into hpo_core's layout,
    ``results/<tag>/<benchmark>/<algorithm><suffix>/<seed>/``, so that ``hpo-core aggregate``
    and ``plot`` compare them with hpo_core's runs. The best value so far is recomputed over
    simulated time; Syne Tune's metadata is kept under ``syne_tune_metadata``.

    Args:
        root: A Syne Tune results tree (e.g. ``~/syne-tune/<tag>``).
        results: Root of the hpo_core results layout.
        suffix: Appended to the method name (e.g. ``"-ST"``), to tell the runs apart from
            hpo_core's runs of the same method.
        resource_attr: The resource column; default: the benchmark's (if it is a registered
            benchmark) or ``epoch``.

    Returns:
        The run folders made (runs imported before are left as they are).

    Raises:
        ValueError: If a run lacks a key or column it needs (naming it), no run is found, or a
            target holds another run (nothing is overwritten).
    """
    import pandas as pd

    from hpo_core.experiments.benchmarks import BENCHMARKS

    found, made = 0, []
    for metadata_path in sorted(Path(root).rglob("metadata.json")):
        meta = json.loads(metadata_path.read_text())
        if not isinstance(meta, dict) or "st_tuner_creation_timestamp" not in meta:
            continue
        found += 1
        run = metadata_path.parent
        missing = [k for k in ("metric_names", "metric_mode", "algorithm", "seed") if k not in meta]
        if missing:
            raise ValueError(f"{metadata_path}: Syne Tune metadata lacks {missing}")
        benchmark = str(meta.get("benchmark", "unknown"))
        metric = meta["metric_names"][0]
        mode = meta["metric_mode"]
        mode = mode if isinstance(mode, str) else mode[0]
        resource = resource_attr or (BENCHMARKS[benchmark].resource_attr
                                     if benchmark in BENCHMARKS else "epoch")
        df = pd.read_csv(run / "results.csv.zip")
        for column in ("trial_id", "st_tuner_time", metric, resource):
            if column not in df:
                raise ValueError(f"{run / 'results.csv.zip'}: no column {column!r} (give "
                                 "resource_attr if the resource has another name)")
        df = df.sort_values("st_tuner_time", kind="stable").reset_index(drop=True)
        df[f"best_{metric}"] = df[metric].cummin() if mode == "min" else df[metric].cummax()
        if "st_decision" not in df:
            df["st_decision"] = "CONTINUE"
        tag = str(meta.get("tag") or run.parent.parent.name)
        method = f"{meta['algorithm']}{suffix}"
        target = Path(results) / tag / benchmark / method / str(meta["seed"])
        if (target / "metadata.json").exists():
            before = json.loads((target / "metadata.json").read_text())
            if before.get("imported_from") == str(run):
                continue  # imported before
            raise ValueError(f"{target} holds another run; not overwritten")
        if (target / "results.csv.zip").exists():
            raise ValueError(f"{target} holds an incomplete run; not overwritten")
        ours = {
            "experiment_tag": tag, "benchmark": benchmark, "method": method,
            "seed": meta["seed"], "metric": metric, "mode": mode, "resource_attr": resource,
            "tuner_name": run.name, "imported_from": str(run), "syne_tune_metadata": meta,
        }
        target.mkdir(parents=True, exist_ok=True)
        df.to_csv(target / "results.csv.zip", index=False)
        # metadata.json last: the run looks complete only once both files are there
        (target / "metadata.json").write_text(json.dumps(ours, indent=2, default=str))
        made.append(target)
    if not found:
        raise ValueError(f"no Syne Tune runs (metadata.json with st_tuner_creation_timestamp) "
                         f"under {root}")
    return made

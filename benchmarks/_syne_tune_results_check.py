"""Reads exported hpo_core results with Syne Tune 0.13's own tools (run in its venv).

For every run under ``--root``: ``load_experiment`` and its ``creation_date()``,
``metric_names()``, ``metric_mode()``, ``best_config()`` and ``plot()``; then
``get_metadata`` and ``load_experiments_df`` over the whole tree. Writes what each call gave.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    from syne_tune.experiments import get_metadata, load_experiment, load_experiments_df

    runs = []
    for metadata_path in sorted(args.root.glob("*/*/*/metadata.json")):
        path = metadata_path.parent
        result = load_experiment(path.name, local_path=str(path.parent),
                                 download_if_not_found=False)
        result.plot()
        runs.append({
            "tuner_name": path.name,
            "creation_date": str(result.creation_date()),
            "metric_names": result.metric_names(),
            "metric_mode": result.metric_mode(),
            "best_config": {k: str(v) for k, v in result.best_config().items()},
            "num_results": len(result.results),
        })
    metadata = get_metadata(root=args.root)
    frame = load_experiments_df(root=args.root)
    args.out.write_text(json.dumps({
        "runs": runs, "num_metadata": len(metadata), "df_rows": len(frame),
        "df_algorithms": sorted(set(frame["algorithm"])), "df_tags": sorted(set(frame["tag"])),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Blackbox load time, peak memory and lookup cost, per family.

For one blackbox of each family (fcnet, NASBench-201, LCBench with curves, the four YAHPO
scenarios), the file is built first if needed (raw files from ``--mirror`` directories, the
shipped mirror, or the publishers), then a fresh subprocess measures:

* ``load_s``: ``load_blackbox`` of the built file, imports excluded;
* ``peak_rss_mb``: the subprocess's peak resident memory after loading and querying;
* ``lookup_us``: microseconds per full-curve query (``blackbox.curve(config)``) of configs the
  blackbox holds (tables) or has already seen (YAHPO's cache), and ``first_lookup_ms`` for
  the first query (tables build their index then; YAHPO runs its ONNX model).

Last line: ``lcbench_load_s=<seconds>`` (target < 1 s). Exits non-zero if anything fails.

Usage::

    python benchmarks/blackbox_load.py [--mirror ../shared/data] [--store DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = [
    "fcnet/protein_structure",
    "nasbench201/cifar100",
    "lcbench/blood-transfusion-service-center",
    "yahpo_lcbench/3945",
    "yahpo_rbv2_xgboost/1479",
    "yahpo_rbv2_rpart/41161",
    "yahpo_iaml_glmnet/1489",
]

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from hpo_core import space as sp
from hpo_core.blackboxes.repository import load_blackbox
from hpo_core.blackboxes.tabular import TabularBlackbox
import numpy as np

name, store = sys.argv[1], Path(sys.argv[2])
tic = time.perf_counter()
blackbox = load_blackbox(name, store=store, progress=False)
load_s = time.perf_counter() - tic
rng = np.random.default_rng(0)
if isinstance(blackbox, TabularBlackbox):
    rows = rng.integers(len(blackbox), size=200)
    configs = [blackbox.config(int(r)) for r in rows]
else:
    configs = [sp.sample_config(blackbox.config_space, rng) for _ in range(200)]
tic = time.perf_counter()
blackbox.curve(configs[0])
first_ms = (time.perf_counter() - tic) * 1e3
for c in configs:
    blackbox.curve(c)
repeats = 20
tic = time.perf_counter()
for _ in range(repeats):
    for c in configs:
        blackbox.curve(c)
lookup_us = (time.perf_counter() - tic) / (repeats * len(configs)) * 1e6
print(json.dumps({
    "name": name, "load_s": load_s, "first_lookup_ms": first_ms, "lookup_us": lookup_us,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "fidelities": int(len(blackbox.fidelity_values)),
}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", default=None, help="raw-file mirror directories")
    parser.add_argument("--store", type=Path, default=None, help="blackbox store to (re)use")
    args = parser.parse_args()
    default_shared = ROOT.parent / "shared" / "data"
    mirror = args.mirror or (str(default_shared) if default_shared.is_dir() else None)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or Path(tmp) / "store"
        raw = Path(tmp) / "raw"
        rows = []
        for name in NAMES:
            family, dataset = name.split("/")
            target = store / family / f"{dataset}.h5"
            if not target.exists():
                build = [sys.executable, "-m", "hpo_core", "blackbox", "build", "--name", name,
                         "--raw_dir", str(raw), "--output", str(target)]
                if mirror:
                    build += ["--mirror", mirror]
                done = subprocess.run(build, env=env, capture_output=True, text=True)
                if done.returncode != 0:
                    print(f"building {name} failed:\n{done.stderr}", file=sys.stderr)
                    return 1
            child = subprocess.run([sys.executable, "-c", CHILD, name, str(store)], env=env,
                                   capture_output=True, text=True)
            if child.returncode != 0:
                print(f"measuring {name} failed:\n{child.stderr}", file=sys.stderr)
                return 1
            row = json.loads(child.stdout.strip().splitlines()[-1])
            row["file_mb"] = target.stat().st_size / 1e6
            rows.append(row)
    header = (f"{'blackbox':42s} {'fid':>4s} {'file MB':>8s} {'load s':>7s} "
              f"{'1st ms':>8s} {'lookup us':>10s} {'RSS MB':>7s}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['name']:42s} {r['fidelities']:4d} {r['file_mb']:8.1f} {r['load_s']:7.3f} "
              f"{r['first_lookup_ms']:8.2f} {r['lookup_us']:10.1f} {r['peak_rss_mb']:7.0f}")
    lcbench = next(r for r in rows if r["name"].startswith("lcbench/"))
    print(f"lcbench_load_s={lcbench['load_s']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

# Config validation (schema + registries) and target lists. Runs before any job starts.
from snakemake.utils import validate

from hpo_core.experiments.benchmarks import (
    BENCHMARK_FAMILIES,
    BENCHMARKS,
    get_benchmark,
    resolve_benchmarks,
)
from hpo_core.experiments.methods import METHODS, check_method_fits_benchmark

validate(config, schema="../schemas/config.schema.yaml")


def _check_names(field, given, allowed):
    unknown = [name for name in given if name not in allowed]
    if unknown:
        raise ValueError(
            f"config field '{field}': unknown {unknown}; allowed values: {sorted(allowed)}"
        )


_check_names("benchmarks", config["benchmarks"], [*BENCHMARKS, *BENCHMARK_FAMILIES])
_check_names("methods", config["methods"], METHODS)
BENCHMARK_NAMES = resolve_benchmarks(config["benchmarks"])
for _benchmark in BENCHMARK_NAMES:
    for _method in config["methods"]:
        check_method_fits_benchmark(_method, get_benchmark(_benchmark))
if config["start_seed"] >= config["num_seeds"]:
    raise ValueError(
        f"config field 'start_seed' ({config['start_seed']}) must be below "
        f"'num_seeds' ({config['num_seeds']}): seeds are start_seed, ..., num_seeds - 1"
    )

RESULTS = config["results_dir"]
BLACKBOX_STORE = config["blackbox_store"]
TAG = config["experiment_tag"]
SEEDS = list(range(config["start_seed"], config["num_seeds"]))


def run_dirs(benchmark):
    return [f"{RESULTS}/{TAG}/{benchmark}/{m}/{s}" for m in config["methods"] for s in SEEDS]


def all_targets():
    return [f"{RESULTS}/{TAG}/plots/{b}-best-so-far.png" for b in BENCHMARK_NAMES] + [
        f"{RESULTS}/{TAG}/plots/{b}-final.csv" for b in BENCHMARK_NAMES
    ]


def blackbox_input(wildcards):
    """The blackbox file a benchmark's runs read (none for blackboxes made in code)."""
    name = get_benchmark(wildcards.benchmark).blackbox_name
    return [f"{BLACKBOX_STORE}/{name}.h5"] if name else []

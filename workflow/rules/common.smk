# Config validation (schema + registries) and target lists. Runs before any job starts.
from snakemake.utils import validate

from hpo_core.experiments.benchmarks import BENCHMARKS
from hpo_core.experiments.methods import METHODS

validate(config, schema="../schemas/config.schema.yaml")


def _check_names(field, given, allowed):
    unknown = [name for name in given if name not in allowed]
    if unknown:
        raise ValueError(
            f"config field '{field}': unknown {unknown}; allowed values: {sorted(allowed)}"
        )


_check_names("benchmarks", config["benchmarks"], BENCHMARKS)
_check_names("methods", config["methods"], METHODS)
if config["start_seed"] >= config["num_seeds"]:
    raise ValueError(
        f"config field 'start_seed' ({config['start_seed']}) must be below "
        f"'num_seeds' ({config['num_seeds']}): seeds are start_seed, ..., num_seeds - 1"
    )

RESULTS = config["results_dir"]
TAG = config["experiment_tag"]
SEEDS = list(range(config["start_seed"], config["num_seeds"]))


def run_dirs(benchmark):
    return [f"{RESULTS}/{TAG}/{benchmark}/{m}/{s}" for m in config["methods"] for s in SEEDS]


def all_targets():
    return [
        f"{RESULTS}/{TAG}/plots/{b}-best-so-far.png" for b in config["benchmarks"]
    ] + [f"{RESULTS}/{TAG}/plots/{b}-final.csv" for b in config["benchmarks"]]

# One job per benchmark x method x seed, so a failed seed reruns alone. On cluster executors the
# seeds of a cheap method share a cluster job (group "seeds-{benchmark}-{method}", sized by
# --group-components, see profiles/slurm); expensive methods get one cluster job per seed.
import json
import re

from hpo_core.experiments.options import command_line_flags

EXPENSIVE = [m for m in config["methods"] if m in config["expensive_methods"]]
CHEAP = [m for m in config["methods"] if m not in config["expensive_methods"]]
RUN_DIR = f"{RESULTS}/{TAG}/{{benchmark}}/{{method}}/{{seed}}"


def _alternatives(names):
    """Regex matching exactly these names (longest first), or nothing if there are none."""
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) or "(?!)"


def _optional_args(wildcards):
    """Flags for the config keys that are set; a job's flags depend only on its own method."""
    args = command_line_flags(config)
    overrides = config["method_args"].get(wildcards.method)
    if overrides:
        args += ["--method_args", json.dumps({wildcards.method: overrides})]
    return args


rule run_expensive:
    input:
        blackbox_input,
    output:
        results=f"{RUN_DIR}/results.csv.zip",
        metadata=f"{RUN_DIR}/metadata.json",
    log:
        f"{RESULTS}/{TAG}/logs/run/{{benchmark}}/{{method}}/{{seed}}.log",
    wildcard_constraints:
        method=_alternatives(EXPENSIVE),
        seed=r"\d+",
    params:
        tag=TAG,
        random_seed=RANDOM_SEED,
        results_dir=RESULTS,
        store=BLACKBOX_STORE,
        optional=_optional_args,
    run:
        hpo_core_job(
            ["run", "--experiment_tag", params.tag, "--benchmark", wildcards.benchmark,
             "--method", wildcards.method, "--start_seed", wildcards.seed,
             "--num_seeds", int(wildcards.seed) + 1, "--random_seed", params.random_seed,
             "--results_dir", params.results_dir, "--blackbox_store", params.store,
             *params.optional],
            log,
        )


use rule run_expensive as run_cheap with:
    group:
        "seeds-{benchmark}-{method}"
    wildcard_constraints:
        method=_alternatives(CHEAP),
        seed=r"\d+",

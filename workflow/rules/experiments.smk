# One job per benchmark x method x seed, so a failed seed reruns alone. On cluster executors the
# seeds of a cheap method share a cluster job (group "seeds-{benchmark}-{method}", sized by
# --group-components, see profiles/slurm); expensive methods get one cluster job per seed.
EXPENSIVE = [m for m in config["methods"] if m in config["expensive_methods"]]
CHEAP = [m for m in config["methods"] if m not in config["expensive_methods"]]
RUN_DIR = f"{RESULTS}/{TAG}/{{benchmark}}/{{method}}/{{seed}}"


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
        results_dir=lambda wc, output: folder_of(
            output.results, f"{TAG}/{wc.benchmark}/{wc.method}/{wc.seed}/results.csv.zip"),
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

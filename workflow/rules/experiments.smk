# One job per benchmark x method x seed, so a failed seed reruns alone.


def _optional_args(wildcards):
    args = []
    if config.get("n_workers"):
        args.append(f"--n_workers {config['n_workers']}")
    if config.get("max_wallclock_time"):
        args.append(f"--max_wallclock_time {config['max_wallclock_time']}")
    if config.get("restrict_configurations"):
        args.append("--restrict_configurations 1")
    if config.get("fcnet_ordinal"):
        args.append(f"--fcnet_ordinal {config['fcnet_ordinal']}")
    return " ".join(args)


rule run_experiment:
    input:
        blackbox_input,
    output:
        results=f"{RESULTS}/{TAG}/{{benchmark}}/{{method}}/{{seed}}/results.csv.zip",
        metadata=f"{RESULTS}/{TAG}/{{benchmark}}/{{method}}/{{seed}}/metadata.json",
    log:
        f"{RESULTS}/{TAG}/logs/run/{{benchmark}}/{{method}}/{{seed}}.log",
    wildcard_constraints:
        seed=r"\d+",
    params:
        tag=TAG,
        random_seed=config["random_seed"],
        results_dir=RESULTS,
        store=BLACKBOX_STORE,
        optional=_optional_args,
    shell:
        "python -m hpo_core run --experiment_tag {params.tag} --benchmark {wildcards.benchmark}"
        " --method {wildcards.method} --start_seed {wildcards.seed}"
        " --num_seeds $(({wildcards.seed} + 1)) --random_seed {params.random_seed}"
        " --results_dir {params.results_dir} --blackbox_store {params.store}"
        " {params.optional} > {log} 2>&1"

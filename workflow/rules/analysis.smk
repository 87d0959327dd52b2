# Aggregate all seeds of a benchmark, then plot and tabulate.


rule aggregate:
    input:
        lambda wc: [f"{d}/metadata.json" for d in run_dirs(wc.benchmark)],
    output:
        f"{RESULTS}/{TAG}/aggregate/{{benchmark}}.parquet",
    log:
        f"{RESULTS}/{TAG}/logs/aggregate/{{benchmark}}.log",
    params:
        runs=lambda wc: run_dirs(wc.benchmark),
    shell:
        "python -m hpo_core aggregate --runs {params.runs} --output {output} > {log} 2>&1"


rule plot:
    input:
        f"{RESULTS}/{TAG}/aggregate/{{benchmark}}.parquet",
    output:
        plot=report(
            f"{RESULTS}/{TAG}/plots/{{benchmark}}-best-so-far.png",
            caption="../report/best_so_far.rst",
            category="Best so far",
        ),
        table=f"{RESULTS}/{TAG}/plots/{{benchmark}}-final.csv",
    log:
        f"{RESULTS}/{TAG}/logs/plot/{{benchmark}}.log",
    shell:
        "python -m hpo_core plot --aggregate {input} --plot {output.plot}"
        " --table {output.table} > {log} 2>&1"

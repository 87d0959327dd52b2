# Aggregate all seeds of a benchmark, then plot and tabulate. Every file the aggregate reads is
# its input, so a missing or deleted result replans exactly that seed and what depends on it.


# Priority: a benchmark's aggregate and plots run as soon as its seeds are done, before the
# seeds of the other benchmarks.
rule aggregate:
    priority: 10
    input:
        lambda wc: run_files(wc.benchmark),
    output:
        f"{RESULTS}/{TAG}/aggregate/{{benchmark}}.parquet",
    log:
        f"{RESULTS}/{TAG}/logs/aggregate/{{benchmark}}.log",
    params:
        runs=lambda wc: run_dirs(wc.benchmark),
    run:
        hpo_core_job(["aggregate", "--runs", *params.runs, "--output", output[0]], log)


# `hpo-core plot` draws every figure of a benchmark: the best-so-far plot it is given, and
# next to it <benchmark>-rung-sizes.png and <benchmark>-final.html (the table for the report).
rule plot:
    priority: 10
    input:
        f"{RESULTS}/{TAG}/aggregate/{{benchmark}}.parquet",
    output:
        plot=report(
            f"{RESULTS}/{TAG}/plots/{{benchmark}}-best-so-far.png",
            caption="../report/best_so_far.rst",
            category="Best so far",
            labels={"benchmark": "{benchmark}", "figure": "best so far"},
        ),
        rung_sizes=report(
            f"{RESULTS}/{TAG}/plots/{{benchmark}}-rung-sizes.png",
            caption="../report/rung_sizes.rst",
            category="Rung sizes",
            labels={"benchmark": "{benchmark}", "figure": "rung sizes"},
        ),
        table_html=report(
            f"{RESULTS}/{TAG}/plots/{{benchmark}}-final.html",
            caption="../report/final_table.rst",
            category="Final table",
            labels={"benchmark": "{benchmark}", "table": "final values and ranks"},
        ),
        table=f"{RESULTS}/{TAG}/plots/{{benchmark}}-final.csv",
    log:
        f"{RESULTS}/{TAG}/logs/plot/{{benchmark}}.log",
    run:
        hpo_core_job(
            ["plot", "--aggregate", input[0], "--plot", output.plot, "--table", output.table],
            log,
        )

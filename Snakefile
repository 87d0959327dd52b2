# hpo_core study workflow: benchmarks x methods x seeds -> per-seed results -> aggregates, plots.
# Run: snakemake --cores 2        (study in config/config.yaml; --configfile for another)

configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/blackboxes.smk"
include: "workflow/rules/experiments.smk"
include: "workflow/rules/analysis.smk"


rule all:
    input:
        all_targets(),

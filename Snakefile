# hpo_core study workflow: benchmarks x methods x seeds -> per-seed results -> aggregates, plots.
# Run: snakemake --cores 2        (study in config/config.yaml; --configfile for another)
# Report: snakemake --report report.html        Profiles: --profile profiles/<name>

# A study given with --configfile replaces the default study instead of being merged into it
# (no key, such as random_seed, leaks from config/config.yaml into another study).
if not workflow.overwrite_configfiles:
    from hpo_core.experiments.study import load_yaml

    load_yaml("config/config.yaml")  # a YAML error names the file, line and column

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/blackboxes.smk"
include: "workflow/rules/experiments.smk"
include: "workflow/rules/analysis.smk"


rule all:
    input:
        all_targets(),

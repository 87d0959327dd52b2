# Download (checksum-verified) -> convert: `snakemake --cores 2 blackboxes/<family>/<name>.h5`
# builds one blackbox; a study pulls exactly the blackboxes its benchmarks need.
import os

from hpo_core.blackboxes.repository import converter

RAW_DIR = config["raw_dir"]
# The repository ships a mirror of the small real data the default study needs.
MIRROR = config.get("blackbox_mirror") or (
    "blackboxes/mirror" if os.path.isdir("blackboxes/mirror") else ""
)


rule fetch_raw:
    output:
        f"{RAW_DIR}/{{path}}",
    log:
        f"logs/blackboxes/fetch/{{path}}.log",
    params:
        raw_dir=lambda wc, output: folder_of(output[0], wc.path),
        mirror=["--mirror", MIRROR] if MIRROR else [],
    run:
        hpo_core_job(
            ["blackbox", "fetch", "--path", wildcards.path, "--raw_dir", params.raw_dir,
             *params.mirror],
            log,
        )


rule convert_blackbox:
    input:
        lambda wc: [f"{RAW_DIR}/{p}" for p in converter(wc.family).inputs(wc.dataset)],
    output:
        f"{BLACKBOX_STORE}/{{family}}/{{dataset}}.h5",
    log:
        f"logs/blackboxes/convert/{{family}}/{{dataset}}.log",
    params:
        raw_dir=lambda wc, input: folder_of(
            input[0], converter(wc.family).inputs(wc.dataset)[0]),
    run:
        hpo_core_job(
            ["blackbox", "build", "--name", f"{wildcards.family}/{wildcards.dataset}",
             "--raw_dir", params.raw_dir, "--output", output[0]],
            log,
        )

"""``pip install .`` gives a working library: a wheel built from the checkout, installed apart
from it, runs the README's library example and builds a blackbox from the mirror it carries."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from hpo_core.blackboxes import shipped

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: A small blackbox whose raw files the repository ships (blackboxes/mirror/).
SHIPPED_BLACKBOX = "yahpo_iaml_glmnet/1489"

#: Run by the installed copy, outside the checkout; prints what it found as JSON.
DRIVER = """
import json, os, sys
import hpo_core
from hpo_core.blackboxes import catalogue, download, repository

exec(compile(open(sys.argv[1]).read(), "README.md", "exec"), {})
blackbox = repository.load_blackbox(sys.argv[2], progress=False)
os.environ.pop(repository.STORE_ENV)
os.environ.pop(repository.RAW_ENV)
print(json.dumps({
    "package": hpo_core.__file__,
    "catalogue": str(catalogue.CATALOGUE_FILE),
    "mirror": str(download.SHIPPED_MIRROR),
    "mirrors": [str(d) for d in download.default_mirror_dirs()],
    "space": sorted(blackbox.config_space),
    "default_store": str(repository.default_store()),
    "default_raw_dir": str(repository.default_raw_dir()),
}))
"""


def readme_library_example() -> str:
    """The python block of the README's section "Using the library directly"."""
    section = README.read_text().split("## Using the library directly", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "README: no python block under 'Using the library directly'"
    return code.group(1)


def build_isolation_args() -> list[str]:
    """``--no-build-isolation`` when this environment meets pyproject's build requirements
    (no download), else nothing: pip then installs them from the package index, as for a user."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for requirement in map(Requirement, requires):
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            return []
        if not requirement.specifier.contains(version, prereleases=True):
            return []
    return ["--no-build-isolation"]


def source_copy(dest: Path) -> Path:
    """What a build reads from the checkout, copied so that its build/ and egg-info stay out of
    the checkout; plus a built blackbox file, as the workflow leaves in blackboxes/<family>/."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "hpo_core", dest / "hpo_core", ignore=ignore)
    shutil.copytree(ROOT / "blackboxes" / "mirror", dest / "blackboxes" / "mirror", ignore=ignore)
    shutil.copy2(ROOT / "blackboxes" / "catalogue.yaml", dest / "blackboxes" / "catalogue.yaml")
    (dest / "blackboxes" / "lcbench").mkdir()
    (dest / "blackboxes" / "lcbench" / "built.h5").write_bytes(b"not shipped")
    return dest


def pip(*args: str, cwd: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (
        f"pip {' '.join(args)}:\n" + done.stdout[-3000:] + done.stderr[-3000:]
    )


def test_installed_wheel_works_outside_the_checkout(tmp_path: Path) -> None:
    src = source_copy(tmp_path / "src")
    pip("wheel", "--no-deps", *build_isolation_args(), "-w", str(tmp_path / "dist"), ".", cwd=src)
    (wheel,) = (tmp_path / "dist").glob("hpo_core-*.whl")

    members = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "hpo_core").rglob("*.py")
               if "__pycache__" not in p.parts}
    assert not modules - members, (
        f"modules missing from the wheel (add their packages to [tool.setuptools] packages in "
        f"pyproject.toml): {sorted(modules - members)}"
    )
    data = {m.removeprefix("hpo_core/_data/") for m in members if m.startswith("hpo_core/_data/")}
    shipped_files = {p.relative_to(ROOT / "blackboxes").as_posix()
                     for p in (ROOT / "blackboxes" / "mirror").rglob("*") if p.is_file()}
    assert data == {"catalogue.yaml", *shipped_files}

    site = tmp_path / "site"
    pip("install", "--no-deps", "--no-compile", "--target", str(site), str(wheel), cwd=tmp_path)
    example = tmp_path / "example.py"
    example.write_text(readme_library_example())
    run = tmp_path / "run"
    run.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HPO_CORE_", "PYTHON"))}
    env.update(PYTHONPATH=str(site), XDG_CACHE_HOME=str(tmp_path / "cache"),
               HPO_CORE_BLACKBOX_STORE=str(tmp_path / "store"),
               HPO_CORE_BLACKBOX_RAW=str(tmp_path / "raw"), MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, "-c", DRIVER, str(example), SHIPPED_BLACKBOX],
                          cwd=run, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])

    package = site / "hpo_core"
    assert Path(found["package"]).parent == package
    assert Path(found["catalogue"]) == package / "_data" / "catalogue.yaml"
    assert Path(found["mirror"]) == package / "_data" / "mirror"
    assert found["mirrors"] == [found["mirror"]]
    assert found["space"]
    family, dataset = SHIPPED_BLACKBOX.split("/")
    assert (tmp_path / "store" / family / f"{dataset}.h5").is_file()
    assert (tmp_path / "raw" / family / "model.onnx").is_file()
    # Without the environment variables, the blackbox cache is the user cache directory.
    assert Path(found["default_store"]) == tmp_path / "cache" / "hpo_core" / "blackboxes"
    assert Path(found["default_raw_dir"]) == tmp_path / "cache" / "hpo_core" / "raw"
    assert not (tmp_path / "cache" / "hpo_core").exists()


def test_data_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(shipped.DATA_ENV, raising=False)
    assert shipped.data_dir() == ROOT / "blackboxes"  # the checkout (or an editable install)
    monkeypatch.setenv(shipped.DATA_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=f"{shipped.DATA_ENV}=.*no catalogue.yaml"):
        shipped.data_dir()
    (tmp_path / "catalogue.yaml").write_text("")
    assert shipped.catalogue_file() == tmp_path / "catalogue.yaml"
    assert shipped.shipped_mirror() == tmp_path / "mirror"

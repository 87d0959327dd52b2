"""Find, build and load blackboxes by name: download (verified) → convert → cached HDF5 file.

A blackbox is named ``<family>/<dataset>``, e.g. ``lcbench/blood-transfusion-service-center``;
its file is ``<store>/<family>/<dataset>.h5``. The first :func:`load_blackbox` of a name fetches
the raw files (from a mirror directory or the publisher, checksums verified) and converts them;
later calls only load the file.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from hpo_core.blackboxes.base import Blackbox

#: Family name -> converter module (see :mod:`hpo_core.blackboxes.converters`).
FAMILIES: dict[str, str] = {
    "fcnet": "hpo_core.blackboxes.converters.fcnet",
    "nasbench201": "hpo_core.blackboxes.converters.nasbench201",
    "lcbench": "hpo_core.blackboxes.converters.lcbench",
    "yahpo_lcbench": "hpo_core.blackboxes.converters.yahpo:LCBENCH",
    "yahpo_rbv2_xgboost": "hpo_core.blackboxes.converters.yahpo:RBV2_XGBOOST",
    "yahpo_rbv2_rpart": "hpo_core.blackboxes.converters.yahpo:RBV2_RPART",
    "yahpo_iaml_glmnet": "hpo_core.blackboxes.converters.yahpo:IAML_GLMNET",
}

STORE_ENV = "HPO_CORE_BLACKBOX_STORE"
RAW_ENV = "HPO_CORE_BLACKBOX_RAW"


def register_family(family: str, module: str) -> None:
    FAMILIES[family] = module


def converter(family: str) -> Any:
    """The converter of ``family`` (a module, or a namespace with the same functions)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown blackbox family {family!r}; known: {sorted(FAMILIES)}")
    target = FAMILIES[family]
    module_name, _, attr = target.partition(":")
    module: ModuleType = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module


def split_name(name: str) -> tuple[str, str]:
    family, sep, dataset = name.partition("/")
    if not sep or not dataset:
        raise ValueError(f"blackbox name must be '<family>/<dataset>', got {name!r}")
    conv = converter(family)
    known = conv.datasets()
    if dataset not in known:
        raise ValueError(
            f"unknown dataset {dataset!r} of blackbox family {family!r}; known: {sorted(known)}"
        )
    return family, dataset


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/hpo_core`` if that is an absolute path, else ``~/.cache/hpo_core``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "hpo_core"


def default_store() -> Path:
    """Where blackbox files are cached: ``HPO_CORE_BLACKBOX_STORE``, else the user cache's
    ``blackboxes/`` (the workflow passes its own store)."""
    return Path(os.environ.get(STORE_ENV) or user_cache_dir() / "blackboxes")


def default_raw_dir() -> Path:
    """Where raw files are fetched to: ``HPO_CORE_BLACKBOX_RAW``, else the user cache's ``raw/``."""
    return Path(os.environ.get(RAW_ENV) or user_cache_dir() / "raw")


def blackbox_file(name: str, store: Path | None = None) -> Path:
    family, dataset = split_name(name)
    return (store or default_store()) / family / f"{dataset}.h5"


def build_blackbox(
    name: str,
    *,
    output: Path | None = None,
    raw_dir: Path | None = None,
    mirror_dirs: list[Path] | None = None,
    progress: bool = True,
) -> Path:
    """Fetch the raw files of ``name`` and convert them into its HDF5 file."""
    from hpo_core.blackboxes.download import default_mirror_dirs, fetch

    family, dataset = split_name(name)
    conv = converter(family)
    raw_dir = raw_dir or default_raw_dir()
    mirrors = mirror_dirs if mirror_dirs is not None else default_mirror_dirs()
    files = {
        path: fetch(path, raw_dir=raw_dir, mirror_dirs=mirrors, progress=progress)
        for path in conv.inputs(dataset)
    }
    output = Path(output or blackbox_file(name))
    conv.convert(dataset, files).save(output)
    record_checksum(output)
    return output


class DamagedBlackboxError(ValueError):
    """A blackbox file that is truncated, corrupt or differs from its recorded checksum."""


def checksum_file(path: Path) -> Path:
    """Where the sha256 of blackbox file ``path`` is recorded when it is built."""
    return path.with_name(path.name + ".sha256")


def record_checksum(path: Path) -> None:
    """Record the sha256 of the blackbox file ``path`` next to it (``<file>.sha256``)."""
    from hpo_core.blackboxes.safe_pickle import sha256_of

    target = checksum_file(path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(f"{sha256_of(path)}  {path.name}\n")
    os.replace(tmp, target)


def blackbox_problem(path: Path) -> str | None:
    """How blackbox file ``path`` is damaged, or None if it is intact.

    Intact means: its sha256 matches the one recorded when it was built (a file saved without
    a record is only checked to open as HDF5 and to name its blackbox kind).
    """
    import h5py

    from hpo_core.blackboxes.safe_pickle import sha256_of

    record = checksum_file(path)
    if record.exists():
        expected = (record.read_text().split() or [""])[0]
        digest = sha256_of(path)
        if digest != expected:
            return f"sha256 {digest} differs from {expected!r} recorded in {record.name}"
        return None
    try:
        with h5py.File(path, "r") as f:
            f.attrs["kind"]
    except (OSError, KeyError) as err:
        return f"not a readable blackbox file ({type(err).__name__}: {err})"
    return None


def outdated(path: Path) -> str | None:
    """Why blackbox file ``path`` (``<store>/<family>/<dataset>.h5``) is outdated: built by
    another version of its family's converter (e.g. another curve convention); None if not."""
    import json

    import h5py

    family = path.parent.name
    if family not in FAMILIES:
        return None
    current = str(getattr(converter(family), "VERSION", ""))
    try:
        with h5py.File(path, "r") as f:
            built = str(json.loads(str(f.attrs["provenance"])).get("converter_version", ""))
    except (OSError, KeyError, ValueError):
        return None  # damaged, not outdated: blackbox_problem says so
    if not built or built == current:  # not made by a converter, or by this one
        return None
    return f"built by converter version {built}; the converter is now version {current}"


def rebuild_hint(path: Path, name: str | None = None) -> str:
    """The commands that rebuild blackbox file ``path``."""
    if name is None:
        name = f"{path.parent.name}/{path.stem}"
    return (f"rebuild it with `snakemake --cores 1 {path}` in the workflow, or "
            f"`python -m hpo_core blackbox build --name {name} --output {path}`")


def declared_config_space(
    name: str, *, store: Path | None = None, mirror_dirs: list[Path] | None = None,
    raw_dir: Path | None = None,
) -> dict[str, Any] | None:
    """The config space of blackbox ``name`` without building or loading it.

    Read from its file if that is built and readable, else as its converter declares it: the
    tabular families' spaces are fixed in code; a YAHPO scenario's comes from a verified local
    copy of its ``config_space.json`` (in ``raw_dir`` or a mirror directory; nothing is
    downloaded or written).

    Returns:
        The space, or None if it needs a file that is not at hand.
    """
    import h5py

    from hpo_core import space as sp
    from hpo_core.blackboxes.download import default_mirror_dirs, verified_copy

    path = blackbox_file(name, store)
    if path.exists():
        try:
            with h5py.File(path, "r") as f:
                return sp.space_from_json(str(f.attrs["config_space"]))
        except (OSError, KeyError):
            pass  # a damaged file: the integrity check reports it; use the declared space
    family, dataset = split_name(name)
    conv = converter(family)
    if not hasattr(conv, "space_inputs"):
        space: dict[str, Any] = conv.config_space()
        return space
    dirs = [raw_dir or default_raw_dir(),
            *(mirror_dirs if mirror_dirs is not None else default_mirror_dirs())]
    files = {}
    for needed in conv.space_inputs(dataset):
        copy = verified_copy(needed, dirs)
        if copy is None:
            return None
        files[needed] = copy
    declared: dict[str, Any] = conv.config_space(dataset, files)
    return declared


def open_blackbox_file(path: Path, *, name: str | None = None) -> Blackbox:
    """Load a blackbox file of any kind, after checking it is intact.

    Raises:
        DamagedBlackboxError: If the file is truncated, corrupt or differs from its recorded
            checksum; the message names the file and the commands that rebuild it.
    """
    import h5py

    problem = blackbox_problem(Path(path))
    if problem is not None:
        raise DamagedBlackboxError(
            f"blackbox file {path} is damaged: {problem}; {rebuild_hint(Path(path), name)}"
        )
    with h5py.File(path, "r") as f:
        kind = str(f.attrs.get("kind", "tabular"))
    if kind == "tabular":
        from hpo_core.blackboxes.tabular import TabularBlackbox

        return TabularBlackbox.load(path)
    if kind == "yahpo":
        from hpo_core.blackboxes.yahpo import YahpoBlackbox

        return YahpoBlackbox.load(path)
    raise ValueError(f"{path}: unknown blackbox kind {kind!r}")


def load_blackbox(
    name: str,
    *,
    store: Path | None = None,
    raw_dir: Path | None = None,
    mirror_dirs: list[Path] | None = None,
    progress: bool = True,
) -> Blackbox:
    """The blackbox ``name``, building it on first use (cached in ``store`` after)."""
    path = blackbox_file(name, store)
    if path.exists() and outdated(path) is not None:
        note = set_aside_if_damaged(path)
        if progress and note:
            print(f"hpo_core: {note}; rebuilding it", file=sys.stderr)
    if not path.exists():
        build_blackbox(name, output=path, raw_dir=raw_dir, mirror_dirs=mirror_dirs,
                       progress=progress)
    return open_blackbox_file(path, name=name)


def set_aside_if_damaged(path: Path) -> str | None:
    """Move a damaged or outdated blackbox file (and its checksum record) aside so that it is
    rebuilt (:func:`blackbox_problem`, :func:`outdated`).

    Nothing is deleted: the file is renamed to ``<file>.damaged-<UTC time>``.

    Returns:
        A note saying what was found and where the file went, or None if the file is intact
        or missing.
    """
    from datetime import UTC, datetime

    if not path.exists():
        return None
    problem = blackbox_problem(path) or outdated(path)
    if problem is None:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    os.replace(path, aside)
    record = checksum_file(path)
    if record.exists():
        os.replace(record, record.with_name(f"{record.name}.damaged-{stamp}"))
    return f"blackbox file {path} needs rebuilding ({problem}); moved to {aside.name}"

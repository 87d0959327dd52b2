"""Raw blackbox files for the tests, obtained the way users obtain them.

Files come through the project's own :func:`~hpo_core.blackboxes.download.fetch`: the mirror
directories of ``HPO_CORE_BLACKBOX_MIRROR``, the repository's shipped mirror, then the
catalogue's sources (PyPI for fcnet and NASBench-201, the publishers' URLs for the rest). They
are kept in the user's raw-file cache (``HPO_CORE_RAW_DIR``, default ``~/.cache/hpo_core/raw``),
so a file is downloaded at most once. A test whose file no source delivers is skipped with a
one-line reason; CI, which has a full mirror, turns such skips into failures (see
``tests/conftest.py``).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from hpo_core.blackboxes.download import MIRROR_ENV, DownloadError, default_mirror_dirs, fetch
from hpo_core.blackboxes.repository import default_raw_dir

#: Where the tests keep raw files (read once: tests may point the variables elsewhere).
RAW_CACHE = default_raw_dir()
#: The checksum list of a complete mirror of the published files (as the data mirror has).
SUMS = "SHA256SUMS"


@functools.cache
def _fetched(path: str) -> Path | str:
    try:
        return fetch(path, raw_dir=RAW_CACHE, mirror_dirs=default_mirror_dirs(),
                     progress=False)
    except DownloadError as err:
        tried = [line.strip(" -") for line in str(err).splitlines()[1:]]
        return "; ".join(tried) or str(err)


def raw_file(path: str) -> Path:
    """The verified raw file ``path`` (catalogue path); skips the test if no source has it."""
    got = _fetched(path)
    if isinstance(got, str):
        pytest.skip(f"no source reachable for {path} (set {MIRROR_ENV}): {got}")
    return got


def raw_files(paths: list[str]) -> dict[str, Path]:
    """:func:`raw_file` of each path, keyed by the path (a converter's input mapping)."""
    return {path: raw_file(path) for path in paths}


def published_mirror() -> Path:
    """A complete mirror of the published files (with ``SHA256SUMS``) named by
    ``HPO_CORE_BLACKBOX_MIRROR``; skips the test if there is none."""
    for part in os.environ.get(MIRROR_ENV, "").split(os.pathsep):
        if part and (Path(part) / SUMS).is_file():
            return Path(part)
    pytest.skip(f"needs a complete mirror of the published files with {SUMS} in {MIRROR_ENV}")


def published_sha256sums() -> dict[str, str]:
    """Path -> sha256 of every published file, from the complete mirror's ``SHA256SUMS``."""
    lines = (published_mirror() / SUMS).read_text().splitlines()
    return {path: digest for digest, path in (line.split(maxsplit=1) for line in lines)}


def raw_mirror(name: str) -> Path:
    """A directory in the mirror layout holding every raw input of blackbox ``name``
    (``<family>/<dataset>``); skips the test if a file cannot be obtained."""
    from hpo_core.blackboxes.repository import converter, split_name

    family, dataset = split_name(name)
    raw_files(converter(family).inputs(dataset))
    return RAW_CACHE

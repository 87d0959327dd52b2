"""Where the data shipped with hpo_core lives: the catalogue and the small raw-file mirror.

The repository keeps them in its top-level ``blackboxes/`` folder (``catalogue.yaml`` and
``mirror/``); a wheel carries the same files as the package data ``hpo_core/_data/`` (see
``[tool.setuptools]`` in ``pyproject.toml``). :func:`data_dir` is the one place that decides
which copy is used, in this order:

1. the directory named by the environment variable ``HPO_CORE_BLACKBOX_DATA``, laid out like
   ``blackboxes/`` (an error if it holds no ``catalogue.yaml``);
2. the installed package's ``_data/``, found with :mod:`importlib.resources` (a wheel installed
   by pip, which unpacks it);
3. ``blackboxes/`` next to the package in a source checkout (also an editable install and the
   workflow, which run from the checkout).

    >>> from hpo_core.blackboxes.shipped import catalogue_file
    >>> catalogue_file().name
    'catalogue.yaml'
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

#: A directory laid out like the repository's ``blackboxes/``, used instead of the shipped one.
DATA_ENV = "HPO_CORE_BLACKBOX_DATA"

_CATALOGUE = "catalogue.yaml"
_MIRROR = "mirror"


def data_dir() -> Path:
    """The directory holding ``catalogue.yaml`` and ``mirror/`` (see the module docstring).

    Raises:
        FileNotFoundError: If ``HPO_CORE_BLACKBOX_DATA`` is set to a directory without a
            ``catalogue.yaml``.
    """
    configured = os.environ.get(DATA_ENV)
    if configured:
        directory = Path(configured).expanduser()
        if not (directory / _CATALOGUE).is_file():
            raise FileNotFoundError(
                f"{DATA_ENV}={configured}: no {_CATALOGUE} in that directory (it must be laid "
                "out like the repository's blackboxes/ folder)"
            )
        return directory
    package = files("hpo_core")
    # Only an unpacked package gives files to copy from (not a zip import).
    if isinstance(package, Path) and (package / "_data" / _CATALOGUE).is_file():
        return package / "_data"
    return Path(__file__).resolve().parents[2] / "blackboxes"


def catalogue_file() -> Path:
    """The catalogue of raw blackbox files (:mod:`hpo_core.blackboxes.catalogue`)."""
    return data_dir() / _CATALOGUE


def shipped_mirror() -> Path:
    """The shipped mirror of small raw files (it may be missing outside a checkout or wheel)."""
    return data_dir() / _MIRROR

"""Loading published pickle tables without running code from them.

A pickle can call any importable function while it loads. Tables are therefore loaded only
after their sha256 matched the catalogue, and through an unpickler that resolves no global at
all: only plain Python values (dict, list, tuple, str, bytes, int, float, bool, None), which
pickle builds without imports, can come out.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path
from typing import Any


class UnsafePickleError(ValueError):
    """The pickle asked for an importable object, which a data table never needs."""


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise UnsafePickleError(
            f"refusing to load {module}.{name}: only plain Python values are accepted"
        )


def sha256_of(path: str | Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def load_pickle(path: str | Path, *, sha256: str) -> Any:
    """Load a pickle of plain values after checking its checksum.

    Raises:
        ValueError: If the checksum does not match (naming the file) or the pickle holds
            anything but plain values (:class:`UnsafePickleError`).
    """
    data = Path(path).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ValueError(f"{path}: sha256 {actual} does not match the expected {sha256}")
    try:
        return _PlainUnpickler(io.BytesIO(data)).load()
    except UnsafePickleError as err:
        raise UnsafePickleError(f"{path}: {err}") from None

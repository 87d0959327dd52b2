from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import pytest

from hpo_core.blackboxes.safe_pickle import UnsafePickleError, load_pickle


class Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned > /dev/null",))


def write(path: Path, obj: object) -> str:
    data = pickle.dumps(obj, protocol=4)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def test_plain_values_load(tmp_path: Path) -> None:
    table = {"000": {"val_loss": [0.1, 0.2], "n": 3, "ok": True, "none": None}}
    digest = write(tmp_path / "t.pkl", table)
    assert load_pickle(tmp_path / "t.pkl", sha256=digest) == table


def test_code_is_refused(tmp_path: Path) -> None:
    digest = write(tmp_path / "bad.pkl", {"x": Exploit()})
    with pytest.raises(UnsafePickleError, match=r"bad\.pkl.*posix\.system|bad\.pkl.*system"):
        load_pickle(tmp_path / "bad.pkl", sha256=digest)


def test_checksum_mismatch_names_the_file(tmp_path: Path) -> None:
    write(tmp_path / "t.pkl", {"a": 1})
    with pytest.raises(ValueError, match=r"t\.pkl: sha256 .* does not match"):
        load_pickle(tmp_path / "t.pkl", sha256="0" * 64)

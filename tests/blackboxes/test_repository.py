"""Blackboxes by name: built on first use from a mirror, cached after, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rawdata import raw_mirror

from hpo_core.blackboxes.repository import (
    DamagedBlackboxError,
    blackbox_file,
    build_blackbox,
    checksum_file,
    declared_config_space,
    load_blackbox,
    outdated,
    set_aside_if_damaged,
)
from hpo_core.blackboxes.tabular import TabularBlackbox


@pytest.mark.parametrize(
    "name", ["lcbench/blood-transfusion-service-center", "fcnet/protein_structure",
             "nasbench201/cifar100", "yahpo_lcbench/3945", "yahpo_rbv2_rpart/41161"],
)
def test_built_on_first_use_then_cached(tmp_path: Path, name: str) -> None:
    store, raw, mirror = tmp_path / "store", tmp_path / "raw", raw_mirror(name)
    blackbox = load_blackbox(name, store=store, raw_dir=raw, mirror_dirs=[mirror],
                             progress=False)
    assert isinstance(blackbox, TabularBlackbox) or name.startswith("yahpo")
    path = blackbox_file(name, store)
    assert path.exists()
    assert blackbox.provenance["input_sha256"]
    mtime = path.stat().st_mtime_ns
    again = load_blackbox(name, store=store, raw_dir=raw, mirror_dirs=[mirror], progress=False)
    assert path.stat().st_mtime_ns == mtime  # not rebuilt
    config = blackbox.configurations()[0] if isinstance(blackbox, TabularBlackbox) else None
    if config is None:
        from hpo_core import space as sp

        config = sp.midpoint_config(blackbox.config_space)
    np.testing.assert_array_equal(again.curve(config).objectives,
                                  blackbox.curve(config).objectives)


def test_unknown_names_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown blackbox family 'nope'.*fcnet"):
        load_blackbox("nope/x", store=tmp_path)
    with pytest.raises(ValueError, match=r"unknown dataset 'mnist' of blackbox family 'fcnet'"):
        load_blackbox("fcnet/mnist", store=tmp_path)
    with pytest.raises(ValueError, match="<family>/<dataset>"):
        load_blackbox("fcnet", store=tmp_path)


def test_missing_mirror_directory_fails_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "store" / "fcnet" / "naval_propulsion.h5"
    with pytest.raises(ValueError, match="does-not-exist"):
        build_blackbox("fcnet/naval_propulsion", output=out, raw_dir=tmp_path / "raw",
                       mirror_dirs=[tmp_path / "does-not-exist"], progress=False)
    assert not out.exists()
    assert not (tmp_path / "raw" / "fcnet" / "naval_propulsion.pkl").exists()


@pytest.mark.parametrize(
    "name", ["lcbench/blood-transfusion-service-center", "fcnet/protein_structure",
             "nasbench201/cifar100", "yahpo_lcbench/3945", "yahpo_rbv2_xgboost/29",
             "yahpo_rbv2_rpart/41161", "yahpo_iaml_glmnet/1489"],
)
def test_declared_config_space_is_the_converted_one(tmp_path: Path, name: str) -> None:
    mirror = raw_mirror(name)
    store = tmp_path / "store"
    declared = declared_config_space(name, store=store, mirror_dirs=[mirror])
    assert declared is not None
    assert not store.exists()  # nothing built
    built = load_blackbox(name, store=store, raw_dir=tmp_path / "raw", mirror_dirs=[mirror],
                          progress=False)
    assert declared == built.config_space
    assert declared_config_space(name, store=store, mirror_dirs=[]) == built.config_space


def test_declared_config_space_needs_its_file_at_hand(tmp_path: Path) -> None:
    assert declared_config_space("yahpo_lcbench/3945", store=tmp_path, raw_dir=tmp_path,
                                 mirror_dirs=[]) is None


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_file_is_named_with_the_command_that_rebuilds_it(
    tmp_path: Path, damage: str
) -> None:
    name = "yahpo_iaml_glmnet/1489"
    store = tmp_path / "store"
    load_blackbox(name, store=store, raw_dir=tmp_path / "raw", mirror_dirs=[raw_mirror(name)],
                  progress=False)
    path = blackbox_file(name, store)
    assert checksum_file(path).read_text().split()[1] == path.name
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:  # same size, one byte different: only the checksum notices
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(data)
    with pytest.raises(DamagedBlackboxError) as err:
        load_blackbox(name, store=store, progress=False)
    message = str(err.value)
    assert str(path) in message and "is damaged" in message
    assert f"python -m hpo_core blackbox build --name {name} --output {path}" in message
    assert f"snakemake --cores 1 {path}" in message
    note = set_aside_if_damaged(path)
    assert note is not None and "moved to" in note
    assert not path.exists()
    (aside,) = path.parent.glob(f"{path.name}.damaged-*")
    assert aside.read_bytes() == (data[: len(data) // 2] if damage == "truncate" else data)
    assert set_aside_if_damaged(path) is None  # missing: nothing to do


def test_a_file_of_another_converter_version_is_rebuilt_on_load(tmp_path: Path) -> None:
    import h5py

    from hpo_core.blackboxes.converters import yahpo

    name = "yahpo_iaml_glmnet/1489"
    store, mirror = tmp_path / "store", raw_mirror(name)
    load_blackbox(name, store=store, raw_dir=tmp_path / "raw", mirror_dirs=[mirror],
                  progress=False)
    path = blackbox_file(name, store)
    with h5py.File(path, "r+") as f:  # as an older converter would have written it
        provenance = json.loads(str(f.attrs["provenance"]))
        f.attrs["provenance"] = json.dumps({**provenance, "converter_version": "0.9"})
    checksum_file(path).unlink()
    assert outdated(path) == (f"built by converter version 0.9; the converter is now version "
                              f"{yahpo.IAML_GLMNET.VERSION}")
    again = load_blackbox(name, store=store, raw_dir=tmp_path / "raw", mirror_dirs=[mirror],
                          progress=False)
    assert again.provenance["converter_version"] == yahpo.IAML_GLMNET.VERSION
    assert outdated(path) is None
    assert len(list(path.parent.glob("1489.h5.damaged-*"))) == 1  # the old file, kept

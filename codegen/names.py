"""Python names for things named in a spec: identifiers, classes, modules; deterministic."""

from __future__ import annotations

import builtins
import functools
import keyword
import re
import unicodedata

_WORD_SPLIT = re.compile(r"[^0-9A-Za-z\u00c0-\uffff]+")
_CAMEL_1 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL_2 = re.compile(r"([a-z])([A-Z])")

RESERVED = set(keyword.kwlist) | set(keyword.softkwlist) | {"self", "cls"}
BUILTINS = set(dir(builtins))


def words(text: str) -> list[str]:
    """Split any name (camelCase, snake_case, kebab, spaces, slashes) into words."""
    text = unicodedata.normalize("NFKC", text)
    text = _CAMEL_1.sub(r"\1_\2", text)
    text = _CAMEL_2.sub(r"\1_\2", text)
    return [w for w in _WORD_SPLIT.split(text) if w and w.replace("_", "")]


def ascii_letters(text: str) -> str:
    """`text` with accents stripped and other non-ASCII characters dropped: "Café" -> "Cafe"."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii())


def _ident_ok(name: str) -> bool:
    return name.isidentifier() and unicodedata.normalize("NFKC", name) == name


@functools.lru_cache(maxsize=65536)  # operation ids, parameter and property names recur
def snake(text: str, *, prefix: str = "x") -> str:
    """A snake_case identifier for `text`; never a keyword, never empty."""
    parts = [w.lower() for w in words(text)]
    name = "_".join(parts).strip("_")
    name = "".join(c if (c == "_" or c.isalnum()) else "_" for c in name)
    if not name:
        name = prefix
    if name[0].isdigit():
        name = f"{prefix}_{name}"
    if not _ident_ok(name):
        name = prefix + "_" + "".join(c if c.isascii() and c.isalnum() else "_" for c in name)
    if name in RESERVED:
        name += "_"
    return name


@functools.lru_cache(maxsize=65536)
def pascal(text: str, *, prefix: str = "X") -> str:
    """A PascalCase class name for `text`; never empty, never starting with a digit."""
    parts = words(text)
    name = "".join(w[:1].upper() + w[1:] for w in parts)
    name = "".join(c for c in name if c.isalnum() or c == "_")
    if not name:
        name = prefix
    if name[0].isdigit():
        name = prefix + name
    if not _ident_ok(name):
        name = prefix + "".join(c for c in name if c.isascii() and c.isalnum())
    if name in RESERVED:
        name += "_"
    return name


class NameSet:
    """Hands out unique names in order: the second `foo` becomes `foo_2` (or `Foo2`)."""

    def __init__(self, taken: set[str] | None = None, *, separator: str = "_") -> None:
        self.folded: set[str] = set(map(str.casefold, taken)) if taken else set()
        self.separator = separator
        self.log: list[list[str]] | None = None  # when a list, each add appends [name, given]

    def add(self, name: str) -> str:
        """Reserve and return `name`, or the first free `name_2`, `name_3`...

        Names are compared case-insensitively, so module files never clash on macOS or Windows.
        """
        candidate, n = name, 2
        while candidate.casefold() in self.folded:
            candidate = f"{name}{self.separator}{n}"
            n += 1
        self.folded.add(candidate.casefold())
        if self.log is not None:
            self.log.append([name, candidate])
        return candidate

    def would_give(self, asked: list[list[str]]) -> bool:
        """Whether adding each name of `asked` ([name, given] pairs, in order) would give what
        it gave then; nothing is added."""
        added: set[str] = set()
        for name, given in asked:
            candidate, n = name, 2
            while candidate.casefold() in self.folded or candidate.casefold() in added:
                candidate = f"{name}{self.separator}{n}"
                n += 1
            if candidate != given:
                return False
            added.add(candidate.casefold())
        return True


def package_name(title: str) -> str:
    """A distribution-style package name for an API title: "LangSmith Deployment" -> langsmith_deployment."""
    text = unicodedata.normalize("NFKC", title).lower()
    name = re.sub(r"[^0-9a-z]+", "_", text).strip("_")
    if not name:
        return "api"
    if name[0].isdigit():
        name = "api_" + name
    if name in RESERVED or name in BUILTINS:
        name += "_api"
    return name

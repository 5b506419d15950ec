"""JSON Schema `pattern`s as ECMA-262 regular expressions, judged by regress.

JSON Schema (and OpenAPI 3.0 with it) defines `pattern` and the keys of `patternProperties` as
ECMA-262 regular expressions, which Python's `re` reads differently: in ECMA-262 `\\d` is ASCII
only, `$` does not match before a trailing newline, `(?<name>...)` names a group, `\\p{L}` is a
Unicode property and `\\/` an identity escape. So every pattern is run by regress, an ECMA-262
engine, and never translated:

- with the `u` flag first: JSON Schema 2020-12 asks for Unicode semantics, and `\\p{...}` exists
  only there;
- if `u` mode refuses it, without flags (ECMA-262's Annex B syntax, what browsers accept): the
  wild patterns of real specs (`\\_`, `[\\w-.]`) are errors in `u` mode;
- a pattern neither accepts is an error of the spec (`codegen.load` refuses it).

Loading a spec and the runtime (generated checks, mock synthesis, the reference validator) both
judge patterns here; a leaf that imports only regress, outside `codegen.runtime` so that loading
a spec does not import FastAPI.
"""

from __future__ import annotations

import re

import regress

# JSON can carry a lone surrogate ("\ud800"), which regress (working on UTF-8) cannot take; it
# is matched as U+FFFF, a noncharacter that, like a surrogate, no letter, digit, space or word
# class holds and `.` or a negated class matches.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE_STAND_IN = "\uffff"


class PatternError(ValueError):
    """A pattern no ECMA-262 mode accepts; `reason` is regress's message (without flags)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source!r} is not an ECMA-262 regular expression: {reason}")
        self.source = source
        self.reason = reason


class Pattern:
    """One compiled pattern; `search(text)` says whether it matches anywhere in `text`."""

    __slots__ = ("_regex", "flags", "source")

    def __init__(self, source: str, flags: str, regex: regress.Regex) -> None:
        self.source = source
        self.flags = flags  # "u", or "" when only Annex B syntax accepts it
        self._regex = regex

    def search(self, text: str) -> bool:
        try:
            return self._regex.find(text) is not None
        except UnicodeEncodeError:
            return self._regex.find(_LONE_SURROGATE.sub(LONE_SURROGATE_STAND_IN, text)) is not None

    def __repr__(self) -> str:
        return f"pattern({self.source!r})"


_COMPILED: dict[str, Pattern] = {}


def pattern(source: str) -> Pattern:
    """`source` compiled once per process: with the `u` flag, else without flags; raises
    PatternError when neither accepts it."""
    found = _COMPILED.get(source)
    if found is None:
        # regress reads UTF-8: a lone surrogate written into the pattern is given as its escape.
        text = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04X}", source)
        try:
            found = Pattern(source, "u", regress.Regex(text, "u"))
        except regress.RegressError:
            try:
                found = Pattern(source, "", regress.Regex(text))
            except regress.RegressError as exc:
                reason = str(exc)
                raise PatternError(source, reason[:1].lower() + reason[1:]) from None
        _COMPILED[source] = found
    return found


def is_pattern(source: str) -> bool:
    """Whether `source` is an ECMA-262 regular expression (in `u` mode or without flags)."""
    try:
        pattern(source)
    except PatternError:
        return False
    return True

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

regress backtracks: `^([\\/\\w \\.-]*)*$` (a real API's) takes seconds on 25 characters it does
not match, twice as long per character more, holding the GIL all along. So a pattern's shape
is read first (`safe_length`): a search of a pattern at risk (nested or several open-ended
repetitions) on a text longer than its safe length runs in a child process, the search
worker, and is stopped after `time_limit()` seconds (`CODEGEN_PATTERN_TIME_LIMIT`, default 1):
`PatternTimeout`, never a guess. Every other search runs here, as it is.

Loading a spec and the runtime (generated checks, mock synthesis, the reference validator) both
judge patterns here; a leaf that imports only regress and the standard library, outside
`codegen.runtime` so that loading a spec does not import FastAPI.
"""

from __future__ import annotations

import atexit
import functools
import math
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from contextvars import ContextVar
from typing import IO, Any

import regress

try:  # Python 3.11+ keeps the regex parser here
    import re._parser as _sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parse  # type: ignore[no-redef]

# JSON can carry a lone surrogate ("\ud800"), which regress (working on UTF-8) cannot take; it
# is matched as U+FFFF, a noncharacter that, like a surrogate, no letter, digit, space or word
# class holds and `.` or a negated class matches.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE_STAND_IN = "\uffff"

TIME_LIMIT_VARIABLE = "CODEGEN_PATTERN_TIME_LIMIT"
DEFAULT_TIME_LIMIT = 1.0  # seconds one search at risk may take


class PatternError(ValueError):
    """A pattern no ECMA-262 mode accepts; `reason` is regress's message (without flags)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source!r} is not an ECMA-262 regular expression: {reason}")
        self.source = source
        self.reason = reason


class PatternTimeout(Exception):
    """A search at risk that did not finish within the time limit (the worker was stopped).

    Not a ValueError: Pydantic would read one as a failed alternative of a union and try the
    next, turning "unknown" into a verdict. `text` is the string searched (callers find where
    it is in the value they checked)."""

    def __init__(self, source: str, text: str, limit: float) -> None:
        self.source = source
        self.text = text
        self.length = len(text)
        self.limit = limit
        self.reason = f"could not be checked against the pattern {source} within the time limit ({limit:g} s)"
        super().__init__(f"a string of {self.length} characters {self.reason}")


class PatternWorkerError(RuntimeError):
    """The search worker cannot run (it did not start, or died), or its time limit is not a
    number of seconds: a fault of the server, not of the value searched."""


class SearchDeferred(BaseException):
    """Raised instead of waiting for the worker while `DEFER_WORKER` is set: the caller (an
    event loop, which must not wait) runs its check again on a thread. Not an Exception, so
    that no `except Exception` on the way turns it into a verdict."""


# Set by a caller that must not wait for the worker (see SearchDeferred).
DEFER_WORKER: ContextVar[bool] = ContextVar("codegen_defer_pattern_worker", default=False)

_UNREAD = -1  # a Pattern's safe length before its shape is read


class Pattern:
    """One compiled pattern; `search(text)` says whether it matches anywhere in `text`."""

    __slots__ = ("_regex", "_safe", "_text", "flags", "source")

    def __init__(self, source: str, flags: str, regex: regress.Regex, text: str) -> None:
        self.source = source
        self.flags = flags  # "u", or "" when only Annex B syntax accepts it
        self._regex = regex
        self._text = text  # what regress compiled (lone surrogates escaped)
        self._safe: int | None = _UNREAD

    def search(self, text: str) -> bool:
        """Whether the pattern matches somewhere in `text`. When the pattern is at risk and
        `text` longer than its safe length, the search worker runs it: PatternTimeout after
        `time_limit()` seconds, PatternWorkerError if the worker cannot run."""
        limit = self._safe
        if limit == _UNREAD:
            limit = self._safe = safe_length(self.source)
        if limit is not None and len(text) > limit:
            return WORKER.search(self, text)
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
            found = Pattern(source, "u", regress.Regex(text, "u"), text)
        except regress.RegressError:
            try:
                found = Pattern(source, "", regress.Regex(text), text)
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


def time_limit() -> float:
    """Seconds a search in the worker may take: `CODEGEN_PATTERN_TIME_LIMIT`, else 1 (read at
    each search at risk, so it may change while a server runs)."""
    given = os.environ.get(TIME_LIMIT_VARIABLE, "").strip()
    if not given:
        return DEFAULT_TIME_LIMIT
    try:
        seconds = float(given)
    except ValueError:
        seconds = math.nan
    if not (seconds > 0 and math.isfinite(seconds)):
        raise PatternWorkerError(f"{TIME_LIMIT_VARIABLE}={given!r}: give a number of seconds above 0")
    return seconds


# -- the search worker ------------------------------------------------------------------------------

STARTUP_SECONDS = 60.0  # for the worker to start (importing regress); not part of any search's limit
_GRACE = 1.0  # seconds past the limit after which the worker ends itself, if no one stopped it


class SearchWorker:
    """A child process running the searches at risk, so that one can be stopped: regress holds
    the GIL until it returns, and no thread can interrupt it. Started on first need, stopped
    (killed) when a search outlives the time limit, started again on the next need.

    One worker behind a lock: searches at risk are rare (long strings under a few patterns) and
    each holds the worker for at most the limit, so callers queue rather than each costing a
    process; the waiting threads block on the lock without the GIL.

    A plain `python -c` child (not `multiprocessing`), reading `flags source-size text-size
    seconds` lines and the UTF-8 they announce from its stdin and answering one byte: it never
    imports the server's `__main__` (as `spawn` and `forkserver` do) and ends when its stdin
    closes, whichever way the server ends. POSIX only (`poll` on a pipe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self.started = 0  # workers started by this process (tests watch it)

    @property
    def busy(self) -> bool:
        """Whether a search runs in the worker now (or is about to: the lock is taken)."""
        return self._lock.locked()

    @property
    def pid(self) -> int | None:
        """The running worker's process id (None when none runs)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def search(self, compiled: Pattern, text: str) -> bool:
        """`compiled.search(text)` run in the worker, within `time_limit()` seconds."""
        if DEFER_WORKER.get():
            raise SearchDeferred
        limit = time_limit()
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            data = _LONE_SURROGATE.sub(LONE_SURROGATE_STAND_IN, text).encode("utf-8")
        source = compiled._text.encode("utf-8")
        request = b"%s %d %d %r\n" % ((compiled.flags or "-").encode(), len(source), len(data), limit) + source + data
        with self._lock:
            process = self._running()
            deadline = time.monotonic() + limit
            try:
                assert process.stdin is not None and process.stdout is not None
                process.stdin.write(request)
                process.stdin.flush()
                answer = _read_byte(process.stdout, deadline)
            except OSError as exc:  # its pipe broke: it died
                self._stop()
                raise PatternWorkerError(f"the pattern worker died: {exc}") from None
            if answer is None:
                self._stop()
                raise PatternTimeout(compiled.source, text, limit)
            if answer not in (b"0", b"1"):
                self._stop()
                raise PatternWorkerError("the pattern worker died")
            return answer == b"1"

    def stop(self) -> None:
        """Stop the worker, if one runs (the next search at risk starts another)."""
        with self._lock:
            self._stop()

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._stop()
        # This file alone (standard library and regress): the worker starts without the runtime.
        here = os.path.abspath(__file__)
        code = (
            "import importlib.util as u; s = u.spec_from_file_location('codegen_pattern_worker', "
            f"{here!r}); m = u.module_from_spec(s); s.loader.exec_module(m); m.serve_searches()"
        )
        try:
            # -P: the working directory is not put on sys.path (a `regress.py` there is not ours).
            process = subprocess.Popen([sys.executable, "-P", "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        except OSError as exc:
            raise PatternWorkerError(f"the pattern worker did not start: {exc}") from None
        self._process = process
        assert process.stdout is not None
        if _read_byte(process.stdout, time.monotonic() + STARTUP_SECONDS) != b"R":
            self._stop()
            raise PatternWorkerError(f"the pattern worker did not start within {STARTUP_SECONDS:g} s")
        self.started += 1
        return process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.kill()
        process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()

    def _forget(self) -> None:
        """In a forked child: the worker is the parent's; the child starts its own."""
        self._lock = threading.Lock()
        process, self._process = self._process, None
        if process is not None:
            for pipe in (process.stdin, process.stdout):  # our copies only: the parent keeps its own
                if pipe is not None:
                    pipe.close()


def _read_byte(pipe: IO[bytes], deadline: float) -> bytes | None:
    """One byte from `pipe` (b"" at its end), or None when none came before `deadline`;
    waits in `poll` (no descriptor limit, unlike `select`), without the GIL."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    poller = select.poll()
    poller.register(pipe.fileno(), select.POLLIN)
    if not poller.poll(math.ceil(remaining * 1000)):
        return None
    return os.read(pipe.fileno(), 1)


def serve_searches() -> None:
    """The worker's loop (see SearchWorker); runs in the child until its stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the server, which stops us
    # Should the server be gone while a search runs, the default action of SIGALRM ends us.
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    compiled: dict[tuple[bytes, bytes], regress.Regex] = {}
    stdout.write(b"R")
    stdout.flush()
    while True:
        header = stdin.readline().split()
        if len(header) != 4:
            return
        flags, source_size, text_size, seconds = header
        source, text = stdin.read(int(source_size)), stdin.read(int(text_size))
        if len(text) != int(text_size):
            return
        regex = compiled.get((flags, source))
        if regex is None:
            if len(compiled) >= 1024:
                compiled.clear()
            decoded = source.decode("utf-8")
            regex = compiled[flags, source] = regress.Regex(decoded, "u") if flags == b"u" else regress.Regex(decoded)
        signal.setitimer(signal.ITIMER_REAL, float(seconds) + _GRACE)
        found = regex.find(text.decode("utf-8")) is not None
        signal.setitimer(signal.ITIMER_REAL, 0)
        stdout.write(b"1" if found else b"0")
        stdout.flush()


WORKER = SearchWorker()
atexit.register(WORKER.stop)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=WORKER._forget)


# -- the shape of a pattern -------------------------------------------------------------------------

NESTED_LIMIT = 16  # characters searched here under a pattern with nested repetition (2^n steps)
SEQUENCE_LIMIT = 256  # under one with several open-ended repetitions (n^k steps)
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


@functools.lru_cache(maxsize=1024)
def safe_length(source: str) -> int | None:
    """The longest text a backtracking engine runs the pattern on in bounded time (None: any;
    the pattern has at most one open-ended repetition and none nested, so it is linear or
    quadratic). Its shape is read from the pattern respelled for Python's parser
    (`sre_syntax`); a shape that parser cannot read is taken as nested."""
    try:
        parsed = _sre_parse.parse(sre_syntax(source, unicode=pattern(source).flags == "u"))
    except PatternError:
        return None  # never searched: loading refuses it
    except Exception:  # noqa: BLE001 - ECMA-262 Python's parser cannot read: assume the worst
        return NESTED_LIMIT
    nested, open_ended = _scan(parsed, inside=False)
    if nested:
        return NESTED_LIMIT
    if open_ended > 1:
        return SEQUENCE_LIMIT
    return None


def _scan(parsed: Any, inside: bool) -> tuple[bool, int]:
    """(whether a repetition holds another repetition of varying count or an alternation,
    how many open-ended repetitions there are)."""
    nested, open_ended = False, 0
    for op, arg in parsed:
        name = str(op)
        if name in _REPEATS:
            low, high, sub = arg
            repeats = high is _sre_parse.MAXREPEAT or high > 1
            if inside and low != high:  # a count of its own to choose inside another: ambiguous
                return True, open_ended
            open_ended += high is _sre_parse.MAXREPEAT
            inner_nested, inner_open = _scan(sub, inside or repeats)
            if inner_nested:
                return True, open_ended
            open_ended += inner_open
        elif name == "BRANCH":
            if inside and not _unambiguous(arg[1]):
                return True, open_ended
            for branch in arg[1]:
                inner_nested, inner_open = _scan(branch, inside)
                if inner_nested:
                    return True, open_ended
                open_ended = max(open_ended, inner_open)
        elif name == "SUBPATTERN":
            inner_nested, inner_open = _scan(arg[-1], inside)
            if inner_nested:
                return True, open_ended
            open_ended += inner_open
        elif name in ("ASSERT", "ASSERT_NOT"):
            inner_nested, inner_open = _scan(arg[1], inside)
            if inner_nested:
                return True, open_ended
            open_ended += inner_open
    return nested, open_ended


def _unambiguous(branches: list[Any]) -> bool:
    """Alternatives that never compete for the same text: each of one fixed length, no two
    starting with the same character (`('|"|[a-z])*` is linear, `(a|ab)*` is not)."""
    seen: set[int] = set()
    for branch in branches:
        first = _first(branch)
        if first is None or first & seen or not _fixed(branch):
            return False
        seen |= first
    return True


def _first(parsed: Any) -> set[int] | None:
    """The characters a match of `parsed` can start with (None: unknown or any)."""
    for op, arg in parsed:
        name = str(op)
        if name == "LITERAL":
            return {arg}
        if name == "SUBPATTERN":
            return _first(arg[-1])
        if name == "IN":
            chars: set[int] = set()
            for item_op, item in arg:
                if str(item_op) == "LITERAL":
                    chars.add(item)
                elif str(item_op) == "RANGE" and item[1] - item[0] < 4096:
                    chars.update(range(item[0], item[1] + 1))
                else:
                    return None
            return chars
        return None
    return None


def _fixed(parsed: Any) -> bool:
    """Whether every match of `parsed` has the same length (no choice of count or branch)."""
    for op, arg in parsed:
        name = str(op)
        if name in _REPEATS:
            if arg[0] != arg[1] or not _fixed(arg[2]):
                return False
        elif name == "SUBPATTERN":
            if not _fixed(arg[-1]):
                return False
        elif name not in ("LITERAL", "NOT_LITERAL", "IN", "ANY", "CATEGORY", "AT"):
            return False
    return True



# Characters standing for a Unicode property (`\p{...}`) while a pattern is walked: enough to
# produce a candidate, which regress then judges. Names per ECMA-262 (General_Category values,
# their long names, binary properties, and scripts).
_PROPERTY_CHARS: dict[str, str] = {
    **dict.fromkeys(("L", "Letter", "LC", "Cased_Letter", "Alphabetic", "Alpha", "Latin", "Latn", "ID_Start"), "a-zA-Z"),
    **dict.fromkeys(("Lu", "Uppercase_Letter", "Uppercase", "Upper"), "A-Z"),
    **dict.fromkeys(("Ll", "Lowercase_Letter", "Lowercase", "Lower"), "a-z"),
    **dict.fromkeys(("Lt", "Titlecase_Letter"), "\u01c5"),
    **dict.fromkeys(("Lm", "Modifier_Letter"), "\u02b0"),
    **dict.fromkeys(("Lo", "Other_Letter"), "\u00aa"),
    **dict.fromkeys(("N", "Number", "Nd", "Decimal_Number", "digit", "ASCII_Hex_Digit", "AHex", "Hex_Digit"), "0-9"),
    **dict.fromkeys(("Nl", "Letter_Number"), "\u2160"),
    **dict.fromkeys(("No", "Other_Number"), "\u00b2"),
    **dict.fromkeys(("Z", "Separator", "Zs", "Space_Separator", "White_Space", "space"), " "),
    **dict.fromkeys(("Zl", "Line_Separator"), "\u2028"),
    **dict.fromkeys(("Zp", "Paragraph_Separator"), "\u2029"),
    **dict.fromkeys(("P", "Punctuation", "punct", "Po", "Other_Punctuation"), "!"),
    **dict.fromkeys(("Pc", "Connector_Punctuation"), "_"),
    **dict.fromkeys(("Pd", "Dash_Punctuation", "Dash"), "\\-"),
    **dict.fromkeys(("Ps", "Open_Punctuation"), "("),
    **dict.fromkeys(("Pe", "Close_Punctuation"), ")"),
    **dict.fromkeys(("Pi", "Initial_Punctuation"), "\u00ab"),
    **dict.fromkeys(("Pf", "Final_Punctuation"), "\u00bb"),
    **dict.fromkeys(("S", "Symbol", "Sm", "Math_Symbol", "Math"), "+"),
    **dict.fromkeys(("Sc", "Currency_Symbol"), "$"),
    **dict.fromkeys(("Sk", "Modifier_Symbol"), "\\^"),
    **dict.fromkeys(("So", "Other_Symbol"), "\u00a9"),
    **dict.fromkeys(("M", "Mark", "Combining_Mark", "Mn", "Nonspacing_Mark"), "\u0300"),
    **dict.fromkeys(("Mc", "Spacing_Mark"), "\u0903"),
    **dict.fromkeys(("Me", "Enclosing_Mark"), "\u20dd"),
    **dict.fromkeys(("C", "Other", "Cc", "Control", "cntrl"), "\x01"),
    **dict.fromkeys(("Cf", "Format"), "\u00ad"),
    **dict.fromkeys(("Co", "Private_Use"), "\ue000"),
    **dict.fromkeys(("Cn", "Unassigned"), "\u0378"),
    **dict.fromkeys(("Greek", "Grek"), "\u03b1"),
    **dict.fromkeys(("Cyrillic", "Cyrl"), "\u0430"),
    **dict.fromkeys(("Han", "Hani"), "\u4e2d"),
    **dict.fromkeys(("Hiragana", "Hira"), "\u3042"),
    **dict.fromkeys(("Katakana", "Kana"), "\u30a2"),
    **dict.fromkeys(("Hangul", "Hang"), "\ud55c"),
    **dict.fromkeys(("Arabic", "Arab"), "\u0627"),
    **dict.fromkeys(("Hebrew", "Hebr"), "\u05d0"),
    **dict.fromkeys(("ASCII", "Any", "Assigned"), "a"),
}
_ECMA_ESCAPES = set("dDwWsSbBfnrtv")  # spelled alike in Python's re
_CLASS_ESCAPES = set("dDwWsS")


def sre_syntax(source: str, unicode: bool) -> str:
    r"""`source` (ECMA-262, with the `u` flag or not) respelled for Python's regex parser, only to
    walk it for candidates: named groups `(?<n>`, `\k<n>`, `\p{..}`/`\P{..}`, `\u{..}`, `\cX`,
    identity escapes (`\_`, `\/`, `\a`), `[^]` and `[]`."""
    out: list[str] = []
    named = "(?<" in source.replace("(?<=", "").replace("(?<!", "")
    in_class = False
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "\\" and i + 1 < n:
            d = source[i + 1]
            i += 2
            if d in "pP" and unicode and i < n and source[i] == "{" and "}" in source[i:]:
                end = source.index("}", i)
                name = source[i + 1 : end].split("=")[-1]
                i = end + 1
                chars = _PROPERTY_CHARS.get(name, "a")
                if d == "P":
                    chars = "\u00e9" if name == "ASCII" else "0" if "a" in chars or "A" in chars else "a"
                out.append(chars if in_class else f"[{chars}]")
            elif d == "u" and unicode and i < n and source[i] == "{" and "}" in source[i:]:
                end = source.index("}", i)
                out.append(f"\\U{int(source[i + 1 : end], 16):08x}")
                i = end + 1
            elif d == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", source[i : i + 4]):
                high = int(source[i : i + 4], 16)
                low = re.fullmatch(r"\\u(d[c-f][0-9a-f]{2})", source[i + 4 : i + 10], re.IGNORECASE)
                if 0xD800 <= high < 0xDC00 and low:  # a surrogate pair is one code point
                    out.append(f"\\U{0x10000 + ((high - 0xD800) << 10) + int(low.group(1), 16) - 0xDC00:08x}")
                    i += 10
                else:
                    out.append("\\u" + source[i : i + 4])
                    i += 4
            elif d == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", source[i : i + 2]):
                out.append("\\x" + source[i : i + 2])
                i += 2
            elif d == "c" and i < n and source[i].isascii() and source[i].isalpha():
                out.append(f"\\x{ord(source[i]) % 32:02x}")
                i += 1
            elif d == "k" and named and i < n and source[i] == "<" and ">" in source[i:]:
                end = source.index(">", i)
                out.append(f"(?P={source[i + 1 : end]})")
                i = end + 1
            elif d in _CLASS_ESCAPES and in_class and source.startswith("-", i):
                out.append("\\" + d + "\\-")  # Annex B: `[\w-.]` is \w, "-" and "."
                i += 1
            elif d in _ECMA_ESCAPES or d.isdigit():
                out.append("\\" + d)
            else:  # an identity escape: the character itself
                out.append(re.escape(d))
            continue
        if in_class:
            if c == "]":
                in_class = False
                out.append(c)
            elif c == "-" and source[i + 1 : i + 2] == "\\" and source[i + 2 : i + 3] in _CLASS_ESCAPES:
                out.append("\\-")
            else:
                out.append(re.escape(c) if c in "[&~|" else c)
        elif c == "[":
            if source.startswith("[^]", i):
                out.append("[\\s\\S]")
                i += 3
                continue
            if source.startswith("[]", i):
                out.append("(?!)")
                i += 2
                continue
            in_class = True
            out.append(c)
            if source.startswith("[^", i):
                out.append("^")
                i += 1
        elif source.startswith("(?<", i) and not source.startswith(("(?<=", "(?<!"), i):
            out.append("(?P<")
            i += 3
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)

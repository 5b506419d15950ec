"""ECMA-262 patterns (codegen/runtime/patterns.py): the flags rule, lone surrogates, and every pattern of
APIs-guru's directory judged the same by loading, the generated checks, the runtime's reference
validator and regress itself, with the mock finding a matching string for nearly all."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import ecma_compiles, ecma_search

AWS_TAG = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"


def test_u_flag_first_then_annex_b_then_refused() -> None:
    from codegen.runtime.patterns import PatternError, pattern

    assert pattern(AWS_TAG).flags == "u"
    assert pattern(r"^\p{L}$").search("é")  # with `u`, `\p{L}` is a property, not "p{L}"
    for annex_b in (r"^[\w-.]+$", r"\_", r"[a-z\-_\.]{1-35}"):  # wild patterns browsers accept
        assert pattern(annex_b).flags == "", annex_b
    assert pattern(r"^[\w-.]+$").search("a-b.c")
    with pytest.raises(PatternError, match=r"is not an ECMA-262 regular expression: invalid group modifier"):
        pattern(r"(?P<year>\d{4})")
    assert pattern(AWS_TAG) is pattern(AWS_TAG)  # compiled once


def test_a_lone_surrogate_is_judged_as_ecma_262_would() -> None:
    # JSON can carry "\ud800"; regress (UTF-8) cannot take it, so it stands in as U+FFFF. These
    # are the verdicts of an ECMA-262 engine on the surrogate itself.
    from codegen.runtime.patterns import pattern

    verdicts = {
        ("^.$", "\ud800"): True,
        (r"^\S$", "\ud800"): True,
        (r"^\W$", "\ud800"): True,
        ("^[^a]$", "\ud800"): True,
        (r"^\p{L}$", "\ud800"): False,
        (r"^\d$", "\ud800"): False,
        (r"^[\u0020-\uD7FF\uE000-\uFFFD]*$", "ab\udc00"): False,  # XML's characters (AWS)
        ("^a.b$", "a\ud800b"): True,
        (r"^a\wb$", "a\ud800b"): False,
    }
    for (source, text), matches in verdicts.items():
        assert pattern(source).search(text) is matches, source


# -- searches at risk ------------------------------------------------------------------------------

AT_RISK = [r"^(a+)+$", r"^([\/\w \.-]*)*$", r"(a|ab)*c"]
NOT_AT_RISK = [r"^[a-z]+$", r"^\d{3}-\d{4}$", r"""('|"|[a-z])*"""]
URL_PATH = r"^([\/\w \.-]*)*$"  # a real API's: regress takes hours on 40 characters it does not match
HOSTILE = "a" * 40 + "!"


@pytest.fixture()
def short_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEGEN_PATTERN_TIME_LIMIT", "0.2")


def test_patterns_at_risk_are_told_from_the_others() -> None:
    from codegen.runtime.patterns import NESTED_LIMIT, SEQUENCE_LIMIT, safe_length

    assert {source: safe_length(source) for source in AT_RISK} == dict.fromkeys(AT_RISK, NESTED_LIMIT)
    assert {source: safe_length(source) for source in NOT_AT_RISK} == dict.fromkeys(NOT_AT_RISK, None)
    assert safe_length(r"^(.+)@(.+)$") == SEQUENCE_LIMIT  # polynomial: several open-ended repetitions


def test_searches_within_the_safe_length_or_of_other_patterns_stay_here(monkeypatch: pytest.MonkeyPatch) -> None:
    from codegen.runtime.patterns import NESTED_LIMIT, WORKER, pattern

    def refuse(*_: Any) -> bool:
        raise AssertionError("the worker was asked")

    monkeypatch.setattr(WORKER, "search", refuse)
    assert pattern(URL_PATH).search("a" * NESTED_LIMIT)
    assert not pattern(r"^(a+)+$").search("a" * (NESTED_LIMIT - 1) + "!")
    assert pattern(r"^[a-z]+$").search("a" * 100_000)
    assert not pattern(r"^\d{3}-\d{4}$").search("1" * 100_000)
    with pytest.raises(AssertionError, match="the worker was asked"):
        pattern(URL_PATH).search("a" * (NESTED_LIMIT + 1))


def test_a_search_past_the_time_limit_raises_and_a_new_worker_takes_over(short_limit: None) -> None:
    from codegen.runtime.patterns import WORKER, PatternTimeout, pattern

    compiled = pattern(URL_PATH)
    assert compiled.search("/srv/" + "a" * 40 + "/x.tar.gz")  # long and at risk: in the worker
    first = WORKER.pid
    assert first is not None
    with pytest.raises(PatternTimeout) as raised:
        compiled.search(HOSTILE)
    assert (raised.value.source, raised.value.length, raised.value.limit) == (URL_PATH, 41, 0.2)
    assert str(raised.value) == f"a string of 41 characters could not be checked against the pattern {URL_PATH} within the time limit (0.2 s)"
    assert WORKER.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)  # killed and reaped
    started = WORKER.started
    assert compiled.search("a" * 40) and not pattern(r"^(a+)+$").search("b" * 30)
    assert WORKER.started == started + 1 and WORKER.pid not in (None, first)


def test_concurrent_searches_share_the_worker_one_at_a_time(short_limit: None) -> None:
    from codegen.runtime.patterns import WORKER, PatternTimeout, pattern

    compiled = pattern(r"^(\w+\s?)*$")
    results: list[tuple[str, bool | str]] = []

    def search(text: str) -> None:
        try:
            results.append((text, WORKER.search(compiled, text)))
        except PatternTimeout:
            results.append((text, "timeout"))

    texts = [("" if i % 2 else "!") + f"word {i} " * 5 for i in range(12)]  # each judged at once
    threads = [threading.Thread(target=search, args=(text,)) for text in [*texts, HOSTILE]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert dict(results) == {**{text: ecma_search(compiled.source, text) for text in texts}, HOSTILE: "timeout"}


def test_the_worker_judges_as_regress_does_here() -> None:
    # Every pattern of tests/specs/patterns, sent to the worker (whatever its shape), on strings
    # the mock makes for it, the probes, long repetitions of both and lone surrogates.
    import yaml
    from codegen.runtime.mock import _from_regex
    from codegen.runtime.patterns import WORKER, pattern

    document = yaml.safe_load((Path(__file__).parent / "specs" / "patterns" / "openapi.yaml").read_text(encoding="utf-8"))
    sources: set[str] = set()
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                sources.add(node["pattern"])
            sources.update(node.get("patternProperties") or {})
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    assert len(sources) >= 14
    disagreements = []
    for source in sorted(sources):
        made = {t for v in (0, 1) for extra in (0, 3) if (t := _from_regex(source, v, extra)) is not None}
        texts = sorted(made | set(PROBES) | {t * 50 for t in made | set(PROBES)} | {"a\ud800b", "\udc00" * 20})
        for text in texts:
            expected = ecma_search(source, text.replace("\ud800", "\uffff").replace("\udc00", "\uffff"))
            if WORKER.search(pattern(source), text) is not expected or pattern(source).search(text) is not expected:
                disagreements.append((source, text[:60], expected))
    assert not disagreements


def test_a_caller_that_must_not_wait_is_told_to_search_elsewhere() -> None:
    from codegen.runtime.patterns import DEFER_WORKER, SearchDeferred, pattern

    token = DEFER_WORKER.set(True)
    try:
        assert pattern(URL_PATH).search("a" * 16)  # here: within the safe length
        with pytest.raises(SearchDeferred):
            pattern(URL_PATH).search("a" * 40)
    finally:
        DEFER_WORKER.reset(token)


def test_the_runtime_reference_validator_raises_rather_than_guessing(short_limit: None) -> None:
    from codegen.runtime.patterns import PatternTimeout
    from codegen.runtime.reference import validator_class

    validator = validator_class()({"type": "string", "pattern": URL_PATH})
    assert validator.is_valid("/srv/" + "a" * 40)
    with pytest.raises(PatternTimeout):
        validator.is_valid(HOSTILE)


def test_the_time_limit_must_be_a_number_of_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    from codegen.runtime.patterns import DEFAULT_TIME_LIMIT, PatternWorkerError, time_limit

    monkeypatch.delenv("CODEGEN_PATTERN_TIME_LIMIT", raising=False)
    assert time_limit() == DEFAULT_TIME_LIMIT == 1.0
    for wrong in ("0", "-1", "soon", "nan", "inf"):
        monkeypatch.setenv("CODEGEN_PATTERN_TIME_LIMIT", wrong)
        with pytest.raises(PatternWorkerError, match="CODEGEN_PATTERN_TIME_LIMIT"):
            time_limit()


# -- every pattern of the directory ---------------------------------------------------------------

PROBES = ("", "a", "A1", "é", "١", "abc\n", "a/b", "a\u2028b", "Ab-9_z.")
BROKEN = ("(?P<year>\\d{4})", "^([a-z]+$", "a**", "[z-a]")  # beside the directory's: none is ECMA-262
SKIPPED = {"example", "examples", "default", "enum", "const"}  # values, not schemas


def directory_patterns() -> list[str]:
    """Every distinct `pattern` and `patternProperties` key of the directory's documents, in first
    seen order; extracted once per directory version into its cache (the JSON is 413 MB)."""
    from bench.directory import VERSION, api_dir, cache_dir, documents

    cached = cache_dir() / VERSION / "patterns.json"
    if cached.is_file():
        return json.loads(cached.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    api = api_dir()
    found: dict[str, None] = {}
    for name in documents(api):
        stack: list[Any] = [json.loads((api / name).read_bytes())]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(reversed(node))
            elif isinstance(node, dict):
                if isinstance(node.get("pattern"), str):
                    found.setdefault(node["pattern"])
                if isinstance(node.get("patternProperties"), dict):
                    found.update(dict.fromkeys(node["patternProperties"]))
                stack.extend(v for k, v in reversed(node.items()) if k not in SKIPPED and not k.startswith("x-"))
    patterns = list(found)
    partial = cached.with_suffix(".partial")
    partial.write_text(json.dumps(patterns, ensure_ascii=True), encoding="utf-8")
    partial.replace(cached)
    return patterns


def python_refuses(source: str) -> bool:
    import re
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "possible nested set"
        try:
            re.compile(source)
        except re.error:
            return True
    return False


def compiled_checks(document: dict[str, Any]) -> dict[str, Any]:
    """The generated check function of each schema of `document`'s components, as code generation
    writes them, compiled and run."""
    from codegen.render.validators import ValidatorCompiler

    compiler = ValidatorCompiler(document)
    names = {name: compiler.function_for(f"/components/schemas/{name}") for name in document["components"]["schemas"]}
    source = "\n".join(
        [
            "import re",
            "from typing import Any",
            f"from codegen.runtime.checks import {', '.join(sorted(compiler.helpers))}",
            *compiler.functions_source(),
        ]
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, "<directory checks>", "exec"), namespace)  # noqa: S102 - our own generated code
    return {name: namespace[function] for name, function in names.items()}


def test_every_directory_pattern_is_judged_by_the_engine(tmp_path: Path) -> None:
    from codegen.load import _invalid_patterns
    from codegen.runtime.mock import _from_regex, synthesize
    from codegen.runtime.patterns import pattern
    from codegen.runtime.reference import validator_class

    directory = directory_patterns()
    patterns = directory + [p for p in BROKEN if p not in directory]
    schemas: dict[str, Any] = {}
    for i, source in enumerate(patterns):
        schemas[f"S{i}"] = {"type": "string", "pattern": source}
        schemas[f"K{i}"] = {"type": "object", "patternProperties": {source: False}}
    document = {"openapi": "3.1.0", "components": {"schemas": schemas}}

    # (a) loading refuses exactly the patterns regress refuses with and without the u flag.
    refused_at_load = {e.pointer.split("/")[3] for e in _invalid_patterns(document, tmp_path / "spec.json")}
    accepted = [i for i, source in enumerate(patterns) if ecma_compiles(source)]
    assert refused_at_load == {f"{kind}{i}" for i in set(range(len(patterns))) - set(accepted) for kind in "SK"}
    assert {patterns[i] for i in set(range(len(patterns))) - set(accepted)} >= set(BROKEN)
    with_u = sum(1 for i in accepted if pattern(patterns[i]).flags == "u")
    refused = sum(1 for source in directory if not ecma_compiles(source))
    python_refused = sum(1 for source in directory if python_refuses(source))

    # (b) generated checks and the runtime's reference validator agree with regress, on strings
    # our synthesizer makes and fixed probes.
    checks = compiled_checks({"components": {"schemas": {k: v for k, v in schemas.items() if int(k[1:]) in accepted}}})
    reference = validator_class()
    disagreements = []
    texts_tried = 0
    for i in accepted:
        source = patterns[i]
        texts = {t for v in (0, 1) for extra in (0, 2) if (t := _from_regex(source, v, extra)) is not None}
        validator = reference({"pattern": source})
        for text in sorted(texts | set(PROBES)):
            expected = ecma_search(source, text)
            texts_tried += 1
            verdicts = (checks[f"S{i}"](text) is None, checks[f"K{i}"]({text: 0}) is not None, validator.is_valid(text))
            if verdicts != (expected, expected, expected):
                disagreements.append(f"{source!r} on {text!r}: regress {expected}, ours {verdicts}")

    # (c) the mock finds a matching string for nearly every pattern.
    found = 0
    for i in accepted:
        source = patterns[i]
        value = synthesize({"type": "string", "pattern": source}, is_valid=lambda _, v, s=source: isinstance(v, str) and ecma_search(s, v))
        found += ecma_search(source, value)

    print(
        f"\n{len(directory)} distinct directory patterns: {with_u} accepted with the u flag, {len(accepted) - with_u} "
        f"only without it, {refused} refused (Python's re refuses {python_refused}); {texts_tried} strings judged alike by "
        f"loading, generated checks, the reference and regress; the mock matched {found} of {len(accepted)} "
        f"({100 * found / len(accepted):.1f}%)"
    )
    assert not disagreements, "\n".join(disagreements[:40])
    assert len(directory) > 3000 and with_u > 3000 and len(accepted) - with_u > 100 and refused == 0
    assert found >= 0.99 * len(accepted)

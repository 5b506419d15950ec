"""Generated code is written as black writes it: the layout helpers, docstrings and the pieces
black still sees are checked against black itself."""

from __future__ import annotations

import keyword
import subprocess
import sys
from pathlib import Path

import black
import pytest
from codegen.render import layout
from codegen.render.format import LINE_LENGTH, annotated_layout, format_layout, format_source
from codegen.render.text import docstring
from conftest import GENERATED, ROOT, SPECS, generate_package
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MODE = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=LINE_LENGTH)
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def black_of(source: str) -> str:
    return black.format_str(source, mode=MODE)


def nested(depth: int, body: str, block: str = "if _:") -> str:
    """`body` (already indented to `depth`) inside `depth` blocks."""
    return "".join("    " * d + block + "\n" for d in range(depth)) + body


names = st.from_regex(r"[a-z_][a-z0-9_]{0,28}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n) and not keyword.issoftkeyword(n) and n != "_"
)
dotted = st.builds(lambda a, b: f"{a}.{b}" if b else a, names, st.one_of(st.none(), names))
atoms = st.one_of(
    dotted,
    st.integers(0, 10**15).map(str),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=70).map(layout.string),
)


def brackets(children: st.SearchStrategy[layout.Expr]) -> st.SearchStrategy[layout.Expr]:
    calls = st.builds(
        lambda head, args, kwargs, magic: layout.Bracket(
            head, (*(("", a) for a in args), *((f"{k}=", v) for k, v in kwargs)), magic=magic
        ),
        dotted,
        st.lists(children, max_size=4),
        st.lists(st.tuples(names, children), max_size=4),
        st.booleans(),
    )
    displays = st.builds(
        lambda opening, items, magic: layout.literal(opening, items, magic=magic),
        st.sampled_from("([{"),
        st.lists(children, min_size=1, max_size=5),
        st.booleans(),
    )
    return st.one_of(calls, displays)


expressions = st.recursive(atoms, brackets, max_leaves=30)
prefixes = st.sampled_from(["X = ", "return ", "raise ", "document: dict[str, Any] = ", "A_RATHER_LONG_NAME_OF_A_CONSTANT = "])


@EXAMPLES
@given(expressions, st.integers(0, 3), prefixes)
def test_statement_layout_is_blacks(expr: layout.Expr, depth: int, prefix: str) -> None:
    try:
        lines = layout.lines(expr, depth, prefix)
    except layout.Unlaid:
        return  # written on one line, for black
    source = nested(depth, "\n".join(lines) + "\n")
    assert black_of(source) == source


@EXAMPLES
@given(names, st.lists(st.sampled_from(["self", "*", "a: int", "body: models.SomeLongModelName", 'x: str = "y"']), max_size=6), dotted, st.integers(0, 2), st.booleans())
def test_signature_layout_is_blacks(name: str, parameters: list[str], returns: str, depth: int, magic: bool) -> None:
    if parameters.count("*") > 1 or parameters[-1:] == ["*"] or "self" in parameters[1:]:
        return
    header = layout.signature(f"def {name * 3}", parameters, returns, depth, magic=magic and bool(parameters))
    if "\n" not in header and not layout.fits(header):
        return  # written on one line, for black
    source = nested(depth, header + "\n" + "    " * (depth + 1) + "pass\n", "class C:")
    assert black_of(source) == source


texts = st.one_of(
    st.text(st.sampled_from(list('ab "\'\\\t\n  \r\x0c\u3000é😀')), max_size=40),
    st.lists(st.sampled_from(["x", " ", "  y", "\t z", '"', "\\", "\n", "\n\n", "w" * 95, '"""', "\\\n", "\n   "]), max_size=12).map("".join),
    st.text(max_size=30),
)


@EXAMPLES
@given(texts, st.integers(0, 2))
def test_docstrings_are_blacks(text: str, depth: int) -> None:
    heads = "".join("    " * d + ("def f():\n" if d == depth - 1 else "class C:\n") for d in range(depth))
    source = heads + "    " * depth + docstring(text, 4 * depth) + "\n"
    assert black_of(source) == source


annotations = st.builds(
    lambda head, members, title: f"{head}[{' | '.join(members)}, Field(title={layout.string(title)})]",
    st.sampled_from(["Annotated", "Sub"]),
    st.lists(st.sampled_from(["StrictStr", "None", "MISSING", "list[Any]", "dict[str, Any]", "SomeRatherLongModelName"]), min_size=1, max_size=4),
    st.text("abc ", max_size=40),
)
defaults = st.one_of(st.sampled_from(["MISSING", "None", "False", "-1", '"x"']), dotted)


@EXAMPLES
@given(names, annotations, defaults, st.sampled_from(["parens", "one", "apart"]))
def test_annotated_fields_laid_out_as_black(name: str, annotation: str, default: str, form: str) -> None:
    # The layouts datamodel-code-generator's formatter gives long annotated fields.
    head, inner = annotation.split("[", 1)
    items = inner[:-1].rsplit(", Field", 1)
    if form == "parens":
        span = [f"    {name}: {annotation} = (\n", f"        {default}\n", "    )\n"]
    elif form == "one":
        span = [f"    {name}: {head}[\n", f"        {inner[:-1]}\n", f"    ] = {default}\n"]
    else:
        span = [f"    {name}: {head}[\n", f"        {items[0]},\n", f"        Field{items[1]},\n", f"    ] = {default}\n"]
    laid = annotated_layout(span)
    if laid is not None:
        assert black_of("class C:\n" + "".join(span)) == "class C:\n" + "".join(laid)


@pytest.fixture(scope="module")
def fixture_packages(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The package of every fixture spec."""
    out = tmp_path_factory.mktemp("formatted")
    specs = sorted(
        spec
        for folder in SPECS.iterdir()
        if folder.is_dir() and folder.name != "errors"
        for spec in (*folder.glob("*.yaml"), *folder.glob("*.json"))
    )
    return [out / generate_package(spec, out) for spec in specs]


def test_generated_packages_pass_black_check(fixture_packages: list[Path]) -> None:
    folders = [GENERATED / "langsmith_deployment", *fixture_packages]
    result = subprocess.run(
        [sys.executable, "-m", "black", "--check", "--quiet", "-l", str(LINE_LENGTH), "-t", "py311", *map(str, folders)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_pieces_and_whole_modules_format_alike() -> None:
    # Lines that fit are black's already (double quotes...); black only sees the pieces: long
    # statements, headers and, in another formatter's code, docstrings and split statements.
    ours = (
        '"""Module."""\n\nimport re\n\n\ndef f(value: Any) -> None:\n    """Check."""\n'
        "    if not (isinstance(value, dict) or isinstance(value, list) or isinstance(value, str) or value is None):\n"
        '        return Failure("must be an object, an array, a string or null" + ", not " + json_type(value), ("key",))\n'
        '    elif value == "a rather long string that makes this line longer than a hundred columns, surely":\n'
        "        pass\n"
    )
    theirs = (
        '"""Module."""\n\nimport re\n\n\nclass A:\n    """\n        Indented.\n    """\n\n'
        '    field: Annotated[StrictStr | None | MISSING, Field(title="A rather long title for a field", min_length=1)] = MISSING\n'
        '    other: Annotated[\n        int, Field(title="x")\n    ] = 1\n'
        '    model_config = ConfigDict(\n        extra="allow",\n    )\n'
    )
    assert format_layout(ours) == format_source(ours)
    assert format_layout(ours, relayout=True) == format_source(ours)
    assert format_layout(theirs, relayout=True) == format_source(theirs)


@pytest.mark.parametrize("form", ["parens", "one", "apart"])
@pytest.mark.parametrize("width", range(92, 108))
def test_annotated_fields_at_the_line_length(form: str, width: int) -> None:
    # Around the line length, where black moves from one layout to another.
    annotation = 'Annotated[StrictStr | None | MISSING, Field(title="Title")]'
    name = "n" * (width - len(f"    : {annotation} = (") + 1)
    default = "MISSING"
    head, inner = annotation.split("[", 1)
    if form == "parens":
        span = [f"    {name}: {annotation} = (\n", f"        {default}\n", "    )\n"]
    elif form == "one":
        span = [f"    {name}: {head}[\n", f"        {inner[:-1]}\n", f"    ] = {default}\n"]
    else:
        span = [f"    {name}: {head}[\n", "        StrictStr | None | MISSING,\n", '        Field(title="Title"),\n', f"    ] = {default}\n"]
    laid = annotated_layout(span)
    if laid is not None:
        assert black_of("class C:\n" + "".join(span)) == "class C:\n" + "".join(laid)


def test_modules_compile_in_runs_as_whole() -> None:
    from codegen.render import verify

    body = "".join(f'def f{i}(value):\n    """Doc\n\ndef not_a_cut():\n    """\n    return {i}\n\n\n' for i in range(4000))
    source = '"""Module."""\n\n\n' + body + "@decorator\ndef last(:\n    pass\n"
    parts = verify.runs(source)
    assert len(parts) > 1 and "".join(text for _, text in parts) == source
    assert all(text.startswith(("def ", "@", '"""')) for _, text in parts)
    errors = [verify.check_runs("m.py", [part]) for part in parts]
    assert [e for e in errors if e] == [verify.compile_error("m.py", source)]
    assert verify.compile_error("m.py", source).startswith(f"m.py:{source.count(chr(10)) - 1} does not compile")


def test_runs_never_part_a_decorator_from_its_definition() -> None:
    """A router's routes carry decorators over several lines: a run cut between one and its
    `async def` fails to compile alone, and the module is compiled again whole (slowly)."""
    from codegen.render import verify

    route = '@router.get(\n    "/items/{i}",\n    operation_id="get_{i}",\n)\n@other\nasync def get_{i}(request: Request) -> Response:\n    return await handle(request)\n\n\n'
    source = "from x import router\n\n\n" + "".join(route.replace("{i}", str(i)) for i in range(3000))
    parts = verify.runs(source)
    assert len(parts) > 10 and "".join(text for _, text in parts) == source
    assert all(verify.check_runs("m.py", [part]) is None for part in parts)
    generated = sorted((Path(__file__).resolve().parents[1] / "generated").rglob("*.py"))
    assert generated
    for path in generated:
        text = path.read_text()
        assert all(verify.check_runs(path.name, [part]) is None for part in verify.runs(text)), path

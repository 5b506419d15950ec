"""Options from `[tool.codegen]` in pyproject.toml, overridden by the command line."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError

DEFAULTS: dict[str, Any] = {
    "spec": "spec/openapi.yaml",
    "out": "generated",
    "package": None,
    "allow_ref_dirs": [],
    "include_tags": [],
    "include_operations": [],
    "formatter": "black",
    "mock": False,
    "validate_responses": True,
    "lenient": False,
}
FORMATTERS = ("black", "none")


@dataclass
class Config:
    """Where the spec is, where the package goes, and what it is called."""

    root: Path
    spec: Path
    out: Path
    package: str | None = None
    allow_ref_dirs: list[Path] = field(default_factory=list)
    include_tags: list[str] = field(default_factory=list)
    include_operations: list[str] = field(default_factory=list)
    formatter: str = "black"
    mock: bool = False
    validate_responses: bool = True
    lenient: bool = False  # rules the spec breaks that generation can work around are warnings

    def render_options(self) -> dict[str, Any]:
        """The options that shape the generated code (also part of the cache key)."""
        return {
            "package": self.package,
            "include_tags": sorted(self.include_tags),
            "include_operations": sorted(self.include_operations),
            "formatter": self.formatter,
            "mock": self.mock,
            "validate_responses": self.validate_responses,
            "lenient": self.lenient,
        }


def find_project(start: Path) -> Path | None:
    """The nearest folder (from `start` up) with a pyproject.toml."""
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return None


def load_config(cwd: Path, overrides: dict[str, Any]) -> Config:
    """Defaults, then `[tool.codegen]`, then command-line values (relative to the project)."""
    root = find_project(cwd) or cwd
    values = dict(DEFAULTS)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"{pyproject}: invalid TOML: {exc}") from None
        section = data.get("tool", {}).get("codegen", {})
        for key, value in section.items():
            norm = key.replace("-", "_")
            if norm not in DEFAULTS:
                raise UsageError(f"{pyproject}: unknown option [tool.codegen] {key!r}")
            values[norm] = value
    from_cli = {k: v for k, v in overrides.items() if v is not None}
    values.update(from_cli)
    _check_types(values, pyproject)
    base_spec = cwd if "spec" in from_cli else root
    base_out = cwd if "out" in from_cli else root
    base_refs = cwd if "allow_ref_dirs" in from_cli else root
    return Config(
        root=root,
        spec=(base_spec / str(values["spec"])).resolve(),
        out=(base_out / str(values["out"])).resolve(),
        package=values.get("package"),
        allow_ref_dirs=[(base_refs / str(d)).resolve() for d in values.get("allow_ref_dirs") or []],
        include_tags=[str(t) for t in values["include_tags"]],
        include_operations=[str(o) for o in values["include_operations"]],
        formatter=values["formatter"],
        mock=values["mock"],
        validate_responses=values["validate_responses"],
        lenient=values["lenient"],
    )


def _check_types(values: dict[str, Any], pyproject: Path) -> None:
    where = f"{pyproject}: [tool.codegen]"
    for key in ("include_tags", "include_operations", "allow_ref_dirs"):
        if not isinstance(values[key], list):
            raise UsageError(f"{where} {key.replace('_', '-')} must be a list of strings")
    for key in ("mock", "validate_responses", "lenient"):
        if not isinstance(values[key], bool):
            raise UsageError(f"{where} {key.replace('_', '-')} must be true or false")
    if values["formatter"] not in FORMATTERS:
        raise UsageError(f"{where} formatter must be one of {', '.join(FORMATTERS)}, not {values['formatter']!r}")


def templates_dir() -> Path:
    """The templates: inside the installed package, or `templates/` of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "router.py.jinja").is_file():
            return candidate
    raise FileNotFoundError("codegen templates not found")

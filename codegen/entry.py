"""The `codegen` command's entry point: it needs the generator's dependencies, which a server
deployed from a committed `generated/` package does without (`pip install spec-first-codegen`
installs the runtime only; `spec-first-codegen[generator]` adds the generator)."""

from __future__ import annotations

import importlib.util
import os
import sys

from .process import discard_early_worker, quiet_collector

# Modules the generator imports that the runtime does not install.
GENERATOR_MODULES = ("datamodel_code_generator", "jinja2", "yaml", "black", "openapi_spec_validator", "jsonschema_rs")
INSTALL = "pip install 'spec-first-codegen[generator]'"


def missing() -> list[str]:
    return [name for name in GENERATOR_MODULES if importlib.util.find_spec(name) is None]


def main(argv: list[str] | None = None) -> int:
    absent = missing()
    if absent:
        print(
            f"codegen: the generator is not installed (missing: {', '.join(absent)}); this installation "
            f"has the runtime only. Install the generator with: {INSTALL}",
            file=sys.stderr,
        )
        return 2
    if argv is None:
        quiet_collector()
        if _renders(sys.argv[1:]):
            # The worker that renders the models starts now, not once the command's modules
            # are imported and the cache is asked (a run the cache serves stops it unused).
            from .render.parallel import start_early

            start_early()
    from .cli import main as run

    try:
        code = run(argv)
    finally:
        discard_early_worker()
    if argv is None:  # the command itself, not a caller in this process
        # Every file is written and closed: what is left is freeing the run's objects, which
        # takes a large spec's run a tenth of a second. Leave without it (as mypy does).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _renders(args: list[str]) -> bool:
    """Whether the command may render in worker processes: `generate` or `check` without
    `--jobs` (a count given is the run's own business)."""
    return bool(args) and args[0] in ("generate", "check") and not any(
        a in ("--jobs", "-h", "--help") or a.startswith("--jobs=") for a in args[1:]
    )


if __name__ == "__main__":
    raise SystemExit(main())

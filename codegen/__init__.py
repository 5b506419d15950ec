"""Spec-first FastAPI server generator: OpenAPI document in, typed server package out.

The pipeline runs one way: `load` (text -> checked document) -> `ir` (typed dataclasses) ->
`render` (code as strings) -> `write` (files, atomically). Generated packages import only
`codegen.runtime`.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    # The version lives with the runtime (codegen/runtime/version.py, read by the build too);
    # read lazily, so `import codegen` stays light for the generator's worker processes.
    if name == "__version__":
        from .runtime.version import VERSION

        return VERSION
    raise AttributeError(name)

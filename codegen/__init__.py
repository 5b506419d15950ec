"""Spec-first FastAPI server generator: OpenAPI document in, typed server package out.

The pipeline runs one way: `load` (text -> checked document) -> `ir` (typed dataclasses) ->
`render` (code as strings) -> `write` (files, atomically). Generated packages import only
`codegen.runtime`.
"""

__version__ = "0.1.0"

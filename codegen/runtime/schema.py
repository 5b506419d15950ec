"""Schema normalization for the runtime (see `codegen.runtime.dialect`)."""

from .dialect import iter_schema_slots, normalize_document, normalize_schema

__all__ = ["iter_schema_slots", "normalize_document", "normalize_schema"]

"""The small runtime every generated package imports: models base, request pipeline, errors.

Generated code never repeats this logic; it hands plain data (`Operation`, `Param`, `Answer`)
to `handle` and binds the generated JSON Schema checks to the generated models.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .version import RUNTIME_INTERFACE, VERSION, RuntimeMismatch, require_runtime

if TYPE_CHECKING:
    from . import security
    from .application import build_app
    from .checks import Check, Failure
    from .errors import ApiError, NotImplementedOperation
    from .handler import handle
    from .model import (
        UUID,
        Adapters,
        AwareDatetime,
        PolymorphicModel,
        SchemaAdapter,
        SpecModel,
        StrictFloat,
        StrictInt,
        bind_checks,
        bind_subtypes,
    )
    from .operation import Answer, Body, Dispatch, Header, Operation, Param, Reply, unset_to_none

# Each name's module, imported when the name is first asked for: the generator, which reads
# documents with this package's pointer, dialect and pattern modules, never pays for FastAPI.
_LAZY = {
    "security": "",
    "build_app": "application",
    "Check": "checks",
    "Failure": "checks",
    "ApiError": "errors",
    "NotImplementedOperation": "errors",
    "handle": "handler",
    **dict.fromkeys(
        (
            "UUID",
            "Adapters",
            "AwareDatetime",
            "PolymorphicModel",
            "SchemaAdapter",
            "SpecModel",
            "StrictFloat",
            "StrictInt",
            "bind_checks",
            "bind_subtypes",
        ),
        "model",
    ),
    **dict.fromkeys(("Answer", "Body", "Dispatch", "Header", "Operation", "Param", "Reply", "unset_to_none"), "operation"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = import_module(f"{__name__}.{name}") if not module else getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "RUNTIME_INTERFACE",
    "UUID",
    "VERSION",
    "Adapters",
    "Answer",
    "ApiError",
    "AwareDatetime",
    "Body",
    "Check",
    "Dispatch",
    "Failure",
    "Header",
    "NotImplementedOperation",
    "Operation",
    "Param",
    "PolymorphicModel",
    "Reply",
    "RuntimeMismatch",
    "SchemaAdapter",
    "SpecModel",
    "StrictFloat",
    "StrictInt",
    "bind_checks",
    "bind_subtypes",
    "build_app",
    "handle",
    "require_runtime",
    "security",
    "unset_to_none",
]

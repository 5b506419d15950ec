"""The small runtime every generated package imports: models base, request pipeline, errors.

Generated code never repeats this logic; it hands plain data (`Operation`, `Param`, `Answer`)
to `handle` and binds the generated JSON Schema checks to the generated models.
"""

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
from .version import RUNTIME_INTERFACE, VERSION, RuntimeMismatch, require_runtime

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

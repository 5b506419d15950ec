"""The base of every generated model: Pydantic types plus the spec's exact JSON Schema check.

Pydantic alone disagrees with JSON Schema in small ways (it reads "1" as a date-time, rejects 1.0
for an integer, treats oneOf as anyOf). Each generated model therefore carries the generated
check of its own schema (`__schema_check__`), run before Pydantic builds the object.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ModelWrapValidatorHandler, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError, to_jsonable_python

from .checks import Check, Failure


def _wire(cls: type[BaseModel], data: Any) -> Any:
    """Python-side input (models, enums, datetimes, field names) as the JSON it stands for."""
    if isinstance(data, dict):
        fields = cls.model_fields
        renamed = {}
        for key, value in data.items():
            field = fields.get(key) if isinstance(key, str) else None
            alias = field.alias if field is not None and field.alias else key
            renamed[alias if alias not in data else key] = value
        data = renamed
    return to_jsonable_python(data, by_alias=True, fallback=lambda v: v)


def schema_error(failure: Failure) -> PydanticCustomError:
    """A Pydantic error carrying the failure's message and path."""
    return PydanticCustomError(
        "json_schema",
        "{message}",
        {"message": failure.message, "path": failure.where()},
    )


class SpecModel(BaseModel):
    """Base of generated models; `__schema_check__` is bound by the generated package."""

    # Spec properties may be named model_*; the generator already renames those that clash.
    model_config = ConfigDict(protected_namespaces=())
    __schema_check__: ClassVar[Check | None] = None

    @model_validator(mode="wrap")
    @classmethod
    def _check_schema(cls, data: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo) -> Any:
        check = cls.__dict__.get("__schema_check__")
        if check is None or isinstance(data, cls):
            return handler(data)
        failure = check(data)
        if failure is not None:
            # Python callers may pass models, enums and datetimes: judge the JSON they stand for.
            wire = _wire(cls, data)
            if wire is not data and wire != data:
                failure = check(wire)
        if failure is not None:
            raise schema_error(failure)
        return handler(data)


def bind_checks(namespace: dict[str, Any], checks: dict[str, Check]) -> None:
    """Attach each generated check to the model class of the same name in `namespace`."""
    for name, check in checks.items():
        cls = namespace.get(name)
        if isinstance(cls, type) and issubclass(cls, SpecModel):
            cls.__schema_check__ = check  # type: ignore[misc]


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def _rfc3339(value: Any) -> Any:
    """RFC 3339 date-times as JSON Schema reads them (lower-case t/z, leap second 60)."""
    if not isinstance(value, str):
        return value
    match = _RFC3339.match(value)
    if not match or match.group(6) != "60":
        return value.upper() if match else value
    # A leap second: the instant one second after :59.
    base = datetime.fromisoformat(value[: match.start(6)] + "59" + value[match.end(6) :].upper())
    return base + timedelta(seconds=1)


AwareDatetime = Annotated[datetime, BeforeValidator(_rfc3339)]
"""A timezone-aware datetime that accepts every RFC 3339 date-time (the spec's `date-time`)."""

__all__ = ["AwareDatetime", "SpecModel", "bind_checks", "schema_error", "timezone"]

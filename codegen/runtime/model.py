"""The base of every generated model: Pydantic types plus the spec's exact JSON Schema check.

Pydantic alone disagrees with JSON Schema in small ways (it reads "1" as a date-time, rejects 1.0
for an integer, treats oneOf as anyOf). Each generated model therefore carries the generated
check of its own schema (`__schema_check__`), run before Pydantic builds the object.
"""

from __future__ import annotations

import functools
import json
import math
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
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


def run_check(check: Check, data: Any, wire: Callable[[Any], Any]) -> None:
    """Raise the check's failure as a Pydantic error; `wire(data)` is the JSON a Python-side
    value (model, enum, datetime) stands for, judged when `data` itself fails."""
    failure = check(data)
    if failure is None:
        return
    converted = wire(data)
    if converted is not data and converted != data:
        failure = check(converted)
        if failure is None:
            return
    raise schema_error(failure)


class SpecModel(BaseModel):
    """Base of generated models; `__schema_check__` is bound by the generated package."""

    # Spec properties may be named model_*; the generator already renames those that clash.
    model_config = ConfigDict(protected_namespaces=())
    __schema_check__: ClassVar[Check | None] = None

    def __init__(self, /, **data: Any) -> None:
        """Build from Python values, by field name or by the spec's property name.

        `model_validate` reads JSON objects by property name only: a key that happens to be a
        field's Python name (`class_` for `class`) is just another property there.
        """
        __tracebackhide__ = True
        self.__pydantic_validator__.validate_python(data, self_instance=self, by_alias=True, by_name=True)

    # As RootModel does: Pydantic keeps calling its own validator, not this, for model_validate.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @model_validator(mode="before")
    @classmethod
    def _check_schema(cls, data: Any) -> Any:
        check = cls.__dict__.get("__schema_check__")
        # The common case (valid JSON) costs one call; failures are judged again, as wire data.
        if check is not None and check(data) is not None and not isinstance(data, cls):
            run_check(check, data, functools.partial(_wire, cls))
        return data


class PolymorphicModel(SpecModel):
    """Base of the model of a schema that subtypes extend through `allOf`, with a
    discriminator: a request value whose discriminator names a subtype is validated as that
    subtype and arrives as its model (OpenAPI's discriminator semantics)."""

    # discriminator property, and the subtype model of each value (bound by `bind_subtypes`)
    __subtypes__: ClassVar[tuple[str, dict[str, type[SpecModel]]] | None] = None

    @model_validator(mode="wrap")
    @classmethod
    def _subtype(cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        table = cls.__dict__.get("__subtypes__")
        # Only while reading a request: a model built in code stays what it was built as.
        if table is not None and info.context and info.context.get(SUBTYPES) and isinstance(data, dict):
            subtype = table[1].get(data.get(table[0]))  # type: ignore[call-overload]
            if subtype is not None and subtype is not cls:
                return subtype.model_validate(data, context=info.context)
        return handler(data)


SUBTYPES = "codegen.subtypes"  # validation context key: dispatch to subtypes


def bind_subtypes(namespace: dict[str, Any], table: dict[str, tuple[str, dict[str, str]]]) -> None:
    """Give each polymorphic base model in `namespace` its subtypes (by class name)."""
    for base, (prop, values) in table.items():
        cls = namespace.get(base)
        if isinstance(cls, type) and issubclass(cls, PolymorphicModel):
            subs = {value: namespace[name] for value, name in values.items() if isinstance(namespace.get(name), type) and issubclass(namespace[name], cls)}
            cls.__subtypes__ = (prop, subs)


T = TypeVar("T")


def _jsonable(value: Any) -> Any:
    return to_jsonable_python(value, by_alias=True, fallback=lambda v: v)


class SchemaAdapter(Generic[T]):
    """Validation for a schema whose model is a type alias or an enum (no class to carry the
    check): the generated check first, then a Pydantic `TypeAdapter` of the type."""

    def __init__(self, type_: Any, check: Check) -> None:
        self.type = type_
        self.check = check
        self._adapter: TypeAdapter[T] | None = None

    def _checked(self, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        run_check(self.check, value, _jsonable)
        return handler(value)

    @property
    def adapter(self) -> TypeAdapter[T]:
        """The TypeAdapter, built on first use (so importing models stays cheap)."""
        if self._adapter is None:
            checked: Any = Annotated[self.type, WrapValidator(self._checked)]
            self._adapter = TypeAdapter(checked)
        return self._adapter

    def validate_python(self, value: Any) -> T:
        """The value as the alias's type; `pydantic.ValidationError` when the schema rejects it."""
        return self.adapter.validate_python(value)

    def validate_json(self, data: str | bytes) -> T:
        return self.validate_python(json.loads(data))


Adapters = dict[str, SchemaAdapter[Any]]
"""The `ADAPTERS` of a generated models module: schema name -> adapter."""


def bind_checks(namespace: dict[str, Any], checks: dict[str, Check]) -> Adapters:
    """Attach each generated check to the model class of the same name in `namespace`; the
    other names checked (enums and type aliases: no class of theirs carries a check) get a
    `SchemaAdapter` each, returned by name."""
    adapters: Adapters = {}
    for name, check in checks.items():
        target = namespace.get(name)
        if isinstance(target, type) and issubclass(target, SpecModel):
            target.__schema_check__ = check
        elif target is not None:
            adapters[name] = SchemaAdapter(target, check)
    return adapters


# JSON Schema types Pydantic reads differently. The generated check has already accepted the
# value; these only make sure Pydantic builds every value the check accepts. Each is a union
# tried left to right: Pydantic's own (fast) reading first, the exact fallback only when it fails.
_FALLBACK = Field(union_mode="left_to_right")

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII)


def _rfc3339(value: Any) -> Any:
    """Date-times as the reference reads them: `t` and `z` in any case, and the final newline
    that its `$` lets through."""
    if isinstance(value, str) and _RFC3339.match(value):
        return value.upper().removesuffix("\n")
    return value


AwareDatetime = Annotated[datetime | Annotated[datetime, BeforeValidator(_rfc3339)], _FALLBACK]
"""The `date-time` format: a timezone-aware datetime from any RFC 3339 date-time text."""


def _uuid(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            return value
    return value


UUID = Annotated[uuid.UUID | Annotated[uuid.UUID, BeforeValidator(_uuid)], _FALLBACK]
"""The `uuid` format: a `uuid.UUID` from any text the reference's format check accepts (it parses
with `uuid.UUID`, so braces, a `urn:uuid:` prefix or surrounding spaces are read as Python does)."""


def _integer(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


StrictInt = Annotated[
    Annotated[int, Strict()] | Annotated[int, Strict(), BeforeValidator(_integer)], _FALLBACK
]
"""The `integer` type: an int from any integral JSON number (1.0 and 1e300 are integers), never
from a string or a boolean."""


def _number(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # beyond float range, as json.loads reads 1e400
            return math.inf if value > 0 else -math.inf
    return value


StrictFloat = Annotated[
    Annotated[float, Strict()] | Annotated[float, Strict(), BeforeValidator(_number)], _FALLBACK
]
"""The `number` type: a float from any JSON number, never from a string or a boolean."""

__all__ = [
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
    "schema_error",
    "timezone",
]

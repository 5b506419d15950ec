"""What a generated router tells the runtime about each operation: plain, frozen data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import MISSING, BaseModel

from .checks import Check

A = TypeVar("A", bound=BaseModel)
T = TypeVar("T")


@dataclass(frozen=True)
class Param:
    """A request parameter: where it comes from, how it is serialized, what it is called."""

    name: str
    location: str  # path, query, header, cookie
    key: str  # the argument name
    schema: str  # JSON pointer of its schema in the spec document
    required: bool = False
    style: str = "form"
    explode: bool = True
    content_type: str | None = None
    allow_empty_value: bool = False
    route_name: str | None = None  # path variables: the name in the route pattern
    # The schema when the spec declares none to point at (a parameter --lenient added).
    inline_schema: Any = None


# A parameter a path key names: (location, name, value), value None for any value.
Discriminator = tuple[str, str, str | None]


@dataclass(frozen=True)
class Dispatch:
    """How a request chooses among operations sharing a path and a method: by the parameters
    their path keys name (`/#Action=Describe`, `/tags/{arn}#tagKeys`, `/search?term={term}`)."""

    parameters: tuple[Discriminator, ...] = ()  # the request must carry each
    hints: tuple[Discriminator, ...] = ()  # named after `#` but declared by no parameter: preferred when carried


@dataclass(frozen=True)
class Body:
    """The request body."""

    key: str
    required: bool
    media_types: tuple[str, ...]
    content: str  # JSON pointer of the request body's `content` (media type objects by type)


@dataclass(frozen=True)
class Header:
    """A declared response header."""

    name: str
    required: bool
    schema: str


@dataclass(frozen=True)
class Answer:
    """A declared response: status ("200", "2XX", "default"), media types, schema and check."""

    status: str
    media_types: tuple[str, ...] = ()
    schema: str | None = None
    check: Check | None = None
    headers: tuple[Header, ...] = ()
    example: str | None = None  # JSON pointer of the media type's example value

    @property
    def json_type(self) -> str | None:
        return next((m for m in self.media_types if is_json(m)), None)

    @property
    def status_code(self) -> int:
        """The status this answer stands for ("2XX" -> 200, "default" -> 200)."""
        if self.status.isdigit():
            return int(self.status)
        if self.status.endswith("XX"):
            return int(self.status[0]) * 100
        return 200

    @property
    def streams(self) -> bool:
        return any(m.split(";")[0].strip() == "text/event-stream" for m in self.media_types)


def is_json(media_type: str) -> bool:
    """Whether a media type is JSON (`application/json`, `application/*+json`)."""
    base = media_type.split(";")[0].strip().lower()
    return base == "application/json" or (base.startswith("application/") and base.endswith("+json"))


@dataclass(frozen=True)
class Operation(Generic[A]):
    """One operation of the spec, as the generated route hands it to `codegen.runtime.handle`."""

    operation_id: str
    name: str
    method: str
    path: str
    arguments: type[A]
    parameters: tuple[Param, ...] = ()
    body: Body | None = None
    answers: tuple[Answer, ...] = ()
    validation_status: int = 422
    path_validation_status: int = 422
    # Alternatives of security schemes (by spec name) that must all be present; () for none.
    security: tuple[tuple[str, ...], ...] = ()
    # Set when other operations share the path and the method: how a request picks this one.
    dispatch: Dispatch | None = None
    places: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        places = {p.key: (p.location, p.name) for p in self.parameters}
        if self.body is not None:
            places[self.body.key] = ("body", "body")
        object.__setattr__(self, "places", places)

    @property
    def success(self) -> Answer | None:
        """The answer a plain return value takes: the first 2xx, else `default`."""
        for answer in self.answers:
            if answer.status.startswith("2"):
                return answer
        return next((a for a in self.answers if a.status == "default"), None)

    def answer_for(self, status: int) -> Answer | None:
        """The declared answer for a status: exact, then range (4XX), then default."""
        text = str(status)
        for answer in self.answers:
            if answer.status == text:
                return answer
        for answer in self.answers:
            if answer.status == text[0] + "XX":
                return answer
        return next((a for a in self.answers if a.status == "default"), None)

    def declares(self, status: int) -> bool:
        text = str(status)
        return any(a.status in (text, text[0] + "XX") for a in self.answers)


@dataclass
class Reply(Generic[T]):
    """Return this instead of a plain value to choose the status or add headers.

    `Reply(run, status=202, headers={"Content-Location": url})`
    """

    body: T
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str | None = None


def freeze(value: Any) -> Any:
    """Mappings and lists as tuples, for hashing schema pointers and defaults."""
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


def unset_to_none(value: T | MISSING) -> T | None:  # type: ignore[valid-type]
    """An optional argument the request did not carry (pydantic's MISSING) as None."""
    return None if value is MISSING else value  # type: ignore[return-value]

"""Request bodies by media type: JSON, text, forms (urlencoded and multipart) and raw bytes.

Each decoder turns the bytes of a body into the JSON-like value its schema is checked against.
Files (multipart parts with a file name or a binary schema, and binary bodies) arrive as
`UploadedFile`, which is `bytes`, so `format: binary` fields hold them as they are.
"""

from __future__ import annotations

from typing import Any, Self
from urllib.parse import parse_qsl, unquote

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from .nesting import MAX_NESTING, TooDeep, loads
from .operation import is_json
from .params import SchemaStore, coerce, decode_form

MAX_PARTS = 1000  # parts of one multipart body (Starlette's default limit of fields)


class BodyInvalid(ValueError):
    """A body that cannot be read as its media type; the message is the `detail`."""


class UploadedFile(bytes):
    """An uploaded file's content, with what the client said about it.

    It is `bytes` (so `bytes`-typed fields hold it); `filename`, `content_type` and `headers`
    come from the multipart part (for a binary body: its `Content-Type`).
    """

    filename: str | None
    content_type: str | None
    headers: dict[str, str]

    def __new__(
        cls,
        content: bytes = b"",
        *,
        filename: str | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Self:
        file = super().__new__(cls, content)
        file.filename = filename
        file.content_type = content_type
        file.headers = dict(headers or {})
        return file

    def __repr__(self) -> str:
        return f"UploadedFile({self.filename!r}, {self.content_type!r}, {len(self)} bytes)"


def _text(data: bytes, content_type: str, where: str = "body") -> str:
    _, options = parse_options_header(content_type.encode("latin-1", "replace"))
    charset = options.get(b"charset", b"utf-8").decode("latin-1")
    try:
        return data.decode(charset)
    except (UnicodeDecodeError, LookupError):
        raise BodyInvalid(f"{where}: not valid {'UTF-8' if charset.lower() in ('utf-8', 'utf8') else charset}") from None


def _json(text: str, where: str = "body") -> Any:
    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        return loads(text, parse_constant=no_constants)
    except TooDeep as exc:
        raise BodyInvalid(f"{where}: JSON {exc}") from None
    except ValueError as exc:
        raise BodyInvalid(f"{where}: malformed JSON ({exc})") from None


def decode_body(data: bytes, declared: str, content_type: str, media: dict[str, Any], store: SchemaStore) -> Any:
    """The value of a body of `content_type`, sent for the declared media type `declared`
    (whose media type object is `media`); raises BodyInvalid."""
    given = content_type.split(";")[0].strip().lower()
    base = declared.split(";")[0].strip().lower()
    kind = given if base.endswith("*") else base
    schema = media.get("schema", {})
    encoding = media.get("encoding") if isinstance(media.get("encoding"), dict) else {}
    if is_json(kind) or (base == "*/*" and given.endswith("json")):
        return _json(_text(data, content_type))
    if kind == "application/x-www-form-urlencoded":
        pairs = parse_qsl(_text(data, content_type), keep_blank_values=True)
        return decode_form(pairs, schema, encoding, store)
    if kind == "multipart/form-data":
        return decode_multipart(data, content_type, schema, encoding, store)
    if is_xml(kind):
        return decode_xml(data, schema, store)
    if kind.startswith("text/") or _is_text(store.resolve(schema)):
        return _text(data, content_type)
    return UploadedFile(data, content_type=content_type or None)


def _is_text(schema: Any) -> bool:
    """A string schema that is not a file (`format: binary`): base64 (`format: byte`) or other
    text, whatever media type carries it."""
    return isinstance(schema, dict) and schema.get("type") == "string" and schema.get("format") != "binary"


class _Part:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.data = bytearray()
        self.name = ""
        self.filename: str | None = None


def _parts(data: bytes, content_type: str) -> list[_Part]:
    _, options = parse_options_header(content_type.encode("latin-1", "replace"))
    boundary = options.get(b"boundary")
    if not boundary:
        raise BodyInvalid("body: multipart/form-data without a boundary")
    parts: list[_Part] = []
    header: list[bytes] = [b"", b""]

    def on_part_begin() -> None:
        if len(parts) >= MAX_PARTS:
            raise BodyInvalid(f"body: more than {MAX_PARTS} parts")
        parts.append(_Part())

    def on_part_data(chunk: bytes, start: int, end: int) -> None:
        parts[-1].data += chunk[start:end]

    def on_header_field(chunk: bytes, start: int, end: int) -> None:
        header[0] += chunk[start:end]

    def on_header_value(chunk: bytes, start: int, end: int) -> None:
        header[1] += chunk[start:end]

    def on_header_end() -> None:
        # As HTTP headers are read: each byte one character, so parsing them again is lossless.
        parts[-1].headers[header[0].decode("latin-1").lower()] = header[1].decode("latin-1")
        header[0] = header[1] = b""

    def on_headers_finished() -> None:
        part = parts[-1]
        _, disposition = parse_options_header(part.headers.get("content-disposition", "").encode("latin-1"))
        if b"name" not in disposition:
            raise BodyInvalid("body: a part without a name in its Content-Disposition")
        part.name = disposition[b"name"].decode("utf-8", "replace")
        if b"filename" in disposition:
            part.filename = disposition[b"filename"].decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {  # type: ignore[arg-type]
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
        },
    )
    try:
        parser.write(data)
        parser.finalize()
    except MultipartParseError as exc:
        raise BodyInvalid(f"body: malformed multipart/form-data ({exc})") from None
    return parts


def is_binary(schema: Any, store: SchemaStore) -> bool:
    """Whether a schema stands for raw bytes (`format: binary`, or 3.1 `contentMediaType`
    without `contentEncoding`)."""
    schema = store.resolve(schema)
    if not isinstance(schema, dict):
        return False
    if schema.get("format") == "binary":
        return True
    return "contentMediaType" in schema and "contentEncoding" not in schema


def decode_multipart(data: bytes, content_type: str, schema: Any, encoding: dict[str, Any], store: SchemaStore) -> dict[str, Any]:
    """A multipart/form-data body as an object: files as UploadedFile, JSON parts (by the part's
    or the encoding's content type, or object schemas) parsed, other text read per its schema;
    repeated parts of an array property collected in order."""
    result: dict[str, Any] = {}
    for part in _parts(data, content_type):
        sub = store.property_schema(schema, part.name)
        many = store.types(sub) == {"array"}
        item = store.items_schema(sub) if many else sub
        where = f"body.{part.name}"
        declared = (encoding.get(part.name) or {}).get("contentType") if isinstance(encoding.get(part.name), dict) else None
        part_type = part.headers.get("content-type") or ""
        value: Any
        if part.filename is not None or is_binary(item, store):
            value = UploadedFile(bytes(part.data), filename=part.filename, content_type=part_type or None, headers=part.headers)
        elif is_json(part_type or str(declared or "")) or (not part_type and not declared and store.types(item) == {"object"}):
            value = _json(_text(bytes(part.data), part_type, where), where)
            if many and isinstance(value, list):
                result.setdefault(part.name, []).extend(value)
                continue
        else:
            value = coerce(_text(bytes(part.data), part_type, where), item, store)
        if many:
            result.setdefault(part.name, []).append(value)
        elif part.name in result:
            # A single value sent twice: keep both, so validation names the mismatch.
            previous = result[part.name]
            result[part.name] = [*(previous if isinstance(previous, list) else [previous]), value]
        else:
            result[part.name] = value
    return result


def is_xml(media_type: str) -> bool:
    """Whether a media type is XML (`application/xml`, `text/xml`, `application/*+xml`)."""
    base = media_type.split(";")[0].strip().lower()
    return base in ("application/xml", "text/xml") or base.endswith("+xml")


def xml_name(schema: Any, fallback: str = "root") -> str:
    """The element name of a value of `schema`: its `xml.name`, else its component's name."""
    if isinstance(schema, dict):
        xml = schema.get("xml")
        if isinstance(xml, dict) and isinstance(xml.get("name"), str):
            return str(xml["name"])
        ref = schema.get("$ref")
        if isinstance(ref, str) and unquote(ref).startswith("#/components/schemas/"):
            return unquote(ref).rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
    return fallback


def encode_xml(value: Any, root: str) -> bytes:
    """A JSON value as XML: objects as child elements, arrays as repeated elements of the
    property's name, scalars as text (OpenAPI's default XML mapping, without `xml` hints)."""
    from xml.etree.ElementTree import Element, SubElement, tostring

    def fill(element: Any, item: Any) -> None:
        if isinstance(item, dict):
            for key, sub in item.items():
                for each in sub if isinstance(sub, list) else [sub]:
                    fill(SubElement(element, _xml_tag(str(key))), each)
        elif isinstance(item, list):
            for each in item:
                fill(SubElement(element, "item"), each)
        elif isinstance(item, bool):
            element.text = "true" if item else "false"
        elif item is not None:
            element.text = str(item)

    top = Element(_xml_tag(root))
    fill(top, value)
    return tostring(top, encoding="utf-8", xml_declaration=True)  # type: ignore[no-any-return]


def _xml_tag(name: str) -> str:
    """`name` as an XML element name (other characters become `_`)."""
    import re

    tag = re.sub(r"[^\w.-]", "_", name) or "_"
    return tag if re.match(r"[^\W\d]", tag) and not tag.lower().startswith("xml") else "_" + tag


def decode_xml(data: bytes, schema: Any, store: SchemaStore) -> Any:
    """An XML body as the JSON value its schema describes (OpenAPI's XML mapping: properties
    as child elements or, with `xml.attribute`, attributes; arrays as repeated elements, inside
    a wrapper with `xml.wrapped`; names from `xml.name`)."""
    from xml.etree.ElementTree import ParseError, TreeBuilder, XMLParser

    class NoDoctype(TreeBuilder):
        # No DTD, hence no entities to expand (as defusedxml does); elements nest at most
        # MAX_NESTING levels.
        depth = 0

        def doctype(self, *_: Any) -> None:
            raise BodyInvalid("body: XML with a document type declaration is not accepted")

        def start(self, *args: Any) -> Any:
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise BodyInvalid(f"body: XML elements nested more than {MAX_NESTING} levels")
            return super().start(*args)

        def end(self, *args: Any) -> Any:
            self.depth -= 1
            return super().end(*args)

    parser = XMLParser(target=NoDoctype())
    try:
        parser.feed(data)
        root = parser.close()
        return _from_element(root, schema, store)
    except ParseError as exc:
        raise BodyInvalid(f"body: malformed XML ({exc})") from None
    except RecursionError:  # not reached: elements nest at most MAX_NESTING levels
        raise BodyInvalid("body: XML nested too deeply") from None


def _xml_of(schema: Any) -> dict[str, Any]:
    xml = schema.get("xml") if isinstance(schema, dict) else None
    return xml if isinstance(xml, dict) else {}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]  # without the namespace


def _from_element(element: Any, schema: Any, store: SchemaStore) -> Any:
    resolved = store.resolve(schema)
    types = store.types(resolved)
    if types == {"array"}:
        items = store.items_schema(resolved)
        return [_from_element(child, items, store) for child in element]
    if types == {"object"} or (not types and len(element)):
        result: dict[str, Any] = {}
        for name in store.property_names(resolved):
            sub = store.resolve(store.property_schema(resolved, name))
            xml = _xml_of(sub)
            tag = str(xml.get("name", name))
            if xml.get("attribute"):
                if tag in element.attrib:
                    result[name] = coerce(element.attrib[tag], sub, store)
                continue
            children = [child for child in element if _local(child.tag) == tag]
            if store.types(sub) == {"array"}:
                items = store.items_schema(sub)
                if xml.get("wrapped"):
                    children = [item for wrapper in children for item in wrapper]
                if children:
                    result[name] = [_from_element(child, items, store) for child in children]
            elif children:
                result[name] = _from_element(children[-1], sub, store)
        return result
    return coerce(element.text or "", resolved, store)

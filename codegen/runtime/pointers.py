"""JSON pointers and local `$ref`s (RFC 6901, RFC 3986): the generator and generated servers
read documents through these."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote


def escape_token(token: str | int) -> str:
    """Escape one JSON pointer reference token (RFC 6901)."""
    text = token if type(token) is str else str(token)
    if "~" in text or "/" in text:
        return text.replace("~", "~0").replace("/", "~1")
    return text


def unescape_token(token: str) -> str:
    """Undo `escape_token`."""
    return token.replace("~1", "/").replace("~0", "~")


def pointer(*tokens: str | int) -> str:
    """Build a JSON pointer from reference tokens: pointer("paths", "/a") == "/paths/~1a"."""
    if not tokens:
        return ""
    try:
        joined = "/" + "/".join(tokens)  # type: ignore[arg-type]
    except TypeError:  # an index among them
        joined = ""
    # As it is when no token holds "/" or "~" (most): each "/" is then one between tokens.
    if joined.count("/") == len(tokens) and "~" not in joined:
        return joined
    return "/" + "/".join([escape_token(t) for t in tokens])


def split_pointer(ptr: str) -> list[str]:
    """Split a JSON pointer ("" or "/a/b") into unescaped tokens."""
    if ptr in ("", "#"):
        return []
    ptr = ptr.removeprefix("#")
    if not ptr.startswith("/"):
        raise ValueError(f"not a JSON pointer: {ptr!r}")
    tokens = ptr[1:].split("/")
    return [unescape_token(t) for t in tokens] if "~" in ptr else tokens


def ref_pointer(ref: str) -> str:
    """The JSON pointer a local `$ref` names: its fragment, percent-decoded, since a `$ref` is a
    URI reference (RFC 3986; RFC 6901 section 6): "#/paths/~1a~1%7Bid%7D" -> "/paths/~1a~1{id}"."""
    return unquote(ref.partition("#")[2])


def schema_name(ref: Any) -> str | None:
    """The name of the component schema a `$ref` names ("#/components/schemas/Pet" -> "Pet"),
    or None when it names something else."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    try:
        tokens = split_pointer(ref_pointer(ref))
    except ValueError:
        return None
    return tokens[2] if len(tokens) == 3 and tokens[:2] == ["components", "schemas"] else None


def ref_to(ptr: str) -> str:
    """The local `$ref` naming the JSON pointer `ptr`; the inverse of `ref_pointer` (only `%`
    needs escaping for that)."""
    return "#" + ptr.replace("%", "%25")


def resolve_pointer(data: Any, ptr: str) -> Any:
    """The value at JSON pointer `ptr` (with or without a leading '#'); KeyError if absent."""
    node = data
    for token in split_pointer(ptr):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise KeyError(token)
    return node


def resolve_ref(data: Any, ref: str) -> Any:
    """The value a local `$ref` ("#/a/b", its fragment percent-encoded or not) names; KeyError
    or ValueError when it names nothing."""
    return resolve_pointer(data, ref_pointer(ref))

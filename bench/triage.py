"""Triage of schemathesis findings against a generated mock: the server's fault, or not.

schemathesis judges the values it generates before they are encoded; the server judges what
arrives. `Wire` records, for each request, what the generated server received (path values,
query, headers, cookies, body bytes), keyed by schemathesis's test case id. `triage` then asks
the reference validator (jsonschema Draft 2020-12, formats, ECMA-262 patterns) about the request
as received and returns a reason when the finding is not the server's fault:

- the reference agrees with the server's verdict on the request as received (schemathesis's
  value changed on the wire, or it judged a format or a keyword JSON Schema does not assert);
- an invalid request to an operation that declares no 4xx (nor `default`): no answer to it is
  documented, so "Undocumented status code" cannot be avoided;
- a "missing" header that OpenAPI ignores (Authorization, Accept, Content-Type) or that the
  HTTP client always sends itself (User-Agent, Host...).

Anything else is a finding against the server and stays one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

CASE_HEADER = "x-schemathesis-testcaseid"
IGNORED_HEADERS = {
    "authorization",
    "accept",
    "content-type",
}  # OpenAPI 3: "this definition SHALL be ignored"
CLIENT_HEADERS = {"user-agent", "host", "accept-encoding", "connection", "content-length"}
TYPELESS = "(the schema has properties but no type; codegen reads it as an object)"


@dataclass
class Received:
    """One request as the generated server received it."""

    operation: Any  # codegen.runtime.Operation
    raw: Any  # codegen.runtime.params.RawRequest
    body: bytes
    content_type: str


class Wire:
    """Records what each request carried, by wrapping the runtime's `handle`, which every
    generated route calls (`runtime.handle`)."""

    def __init__(self) -> None:
        self.received: dict[str, Received] = {}

    def install(self) -> None:
        from codegen import runtime
        from codegen.runtime import handler
        from codegen.runtime.params import RawRequest

        original = runtime.handle

        async def recording(request: Any, operation: Any, *args: Any, **kwargs: Any) -> Any:
            case_id = request.headers.get(CASE_HEADER)
            if case_id:
                encoded = handler._encoded_path_params(request)
                raw = RawRequest(
                    path_params=dict(request.path_params) if encoded is None else encoded,
                    raw_path=encoded is not None,
                    query=request.query_params.multi_items(),
                    headers=request.headers,
                    cookies=request.cookies,
                )
                body = await request.body() if operation.body is not None else b""
                content_type = request.headers.get("content-type", "")
                self.received[case_id] = Received(operation, raw, body, content_type)
            return await original(request, operation, *args, **kwargs)

        runtime.handle = recording


def carries_credentials(received: Received, schemes: dict[str, Any]) -> bool:
    """Whether the request carries all credentials of one of its operation's alternatives."""

    def present(name: str) -> bool:
        scheme = schemes.get(name) or {}
        kind, raw = scheme.get("type"), received.raw
        if kind == "apiKey":
            where, key = scheme.get("in"), str(scheme.get("name", ""))
            if where == "header":
                return raw.headers.get(key) is not None
            if where == "query":
                return any(k == key for k, _ in raw.query)
            return key in raw.cookies
        if kind in ("http", "oauth2", "openIdConnect"):
            given = raw.headers.get("authorization") or ""
            wanted = str(scheme.get("scheme") or "bearer") if kind == "http" else "bearer"
            return given.lower().startswith(wanted.lower() + " ")
        return True

    return any(all(present(name) for name in option) for option in received.operation.security)


class Reference:
    """The reference's verdict on a request as received."""

    def __init__(self, runtime: Any) -> None:
        from codegen.runtime.dialect import for_direction, read_as_objects
        from codegen.runtime.reference import reference_validator

        self.store = runtime.store
        self.schemes = {
            name: runtime.store.resolve(scheme)
            for name, scheme in ((runtime.store.document.get("components") or {}).get("securitySchemes") or {}).items()
        }
        self.validator = reference_validator(for_direction(runtime.store.document, "request"))
        # JSON Schema's reading once codegen's one deviation applies (README: typeless schemas)
        self.typeless = reference_validator(read_as_objects(for_direction(runtime.store.document, "request")))

    def errors(self, schema: Any, value: Any, validator: Any = None) -> str | None:
        try:
            error = next(iter((validator or self.validator).evolve(schema=schema).iter_errors(value)), None)
        except Exception as exc:  # noqa: BLE001 - a value the validator cannot take is invalid to it
            return f"{type(exc).__name__}: {exc}"
        return None if error is None else f"{error.json_path}: {error.message}"[:300]

    def judge(self, received: Received, validator: Any = None) -> tuple[bool, str]:
        """(valid, what the reference saw) for the request as received (by `validator`, else
        the reference)."""
        from codegen.runtime.bodies import BodyInvalid, decode_body
        from codegen.runtime.handler import media_matches
        from codegen.runtime.operation import is_json
        from codegen.runtime.params import MISSING, decode_param

        operation, store = received.operation, self.store
        seen: list[str] = []
        claimed = {p.name for p in operation.parameters if p.location == "query"}
        for p in operation.parameters:
            where = f"{p.location} parameter {p.name!r}"
            try:
                value = decode_param(p, received.raw, store, claimed)
            except Exception as exc:  # noqa: BLE001 - text that cannot be read is invalid
                return False, f"{where} cannot be read: {exc}"
            if value is MISSING:
                if p.required:
                    return False, f"{where} is missing"
                continue
            schema = store.at(p.schema) if p.schema else (p.inline_schema or {})
            problem = self.errors(schema, value, validator)
            if problem:
                return (
                    False,
                    f"{where} arrived as {_short(value)}, which jsonschema refuses ({problem})",
                )
            seen.append(f"{where} = {_short(value)}")
        body = operation.body
        if body is not None:
            media = next(
                (m for m in body.media_types if media_matches(received.content_type, m)), None
            )
            # Absent as the server has it: no bytes and no content type (an optional JSON body
            # may also be empty); an empty form is a form without fields.
            absent = not received.body and (
                not received.content_type or (not body.required and (media is None or is_json(media)))
            )
            if absent:
                if body.required:
                    return False, "the body is missing"
            elif media is None:
                return False, f"the content type {received.content_type!r} is not declared"
            else:
                content = store.at(body.content)
                media_object = content.get(media) if isinstance(content, dict) else {}
                try:
                    value = decode_body(
                        received.body, media, received.content_type, media_object or {}, store
                    )
                except BodyInvalid as exc:
                    return False, f"the body cannot be read as {media}: {exc}"
                schema = (media_object or {}).get("schema", {})
                problem = self.errors(schema, _jsonable(value), validator)
                if problem:
                    return (
                        False,
                        f"the {media} body arrived as {_short(value)}, which jsonschema refuses ({problem})",
                    )
                seen.append(f"the {media} body = {_short(value)}")
        return True, "; ".join(seen) or "nothing to check"


def _jsonable(value: Any) -> Any:
    """`value` as JSON Schema sees it: bytes (an uploaded file, binary data) are a string."""
    from codegen.runtime.handler import jsonable

    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    try:
        return jsonable(value)
    except Exception:  # noqa: BLE001
        return value


def _short(value: Any) -> str:
    try:
        text = json.dumps(_jsonable(value), ensure_ascii=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _paths_of(document: dict[str, Any], case: dict[str, Any]) -> dict[str, set[str]]:
    """The path keys of the document whose path (before `?` or `#`) matches the URL path of
    `case`, with the methods each declares."""
    path = re.split(r"[?#]", str(case.get("path") or ""), maxsplit=1)[0]
    values = case.get("path_parameters") or {}
    url = re.sub(r"\{([^{}]*)\}", lambda m: str(values.get(m.group(1), "x")), path)
    found: dict[str, set[str]] = {}
    for key, item in (document.get("paths") or {}).items():
        base = re.split(r"[?#]", key, maxsplit=1)[0]
        pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in re.split(r"(\{[^{}]*\})", base))
        if isinstance(item, dict) and re.fullmatch(pattern, url):
            found[key] = {m.upper() for m in item if m in ("get", "put", "post", "delete", "options", "head", "patch", "trace")}
    return found


def _shared_url(finding: dict[str, Any], document: dict[str, Any]) -> str | None:
    """Why an Allow or undeclared-method finding is right for the URL: its methods are those of
    every path key of the document the URL matches (`/tags/{arn}` and `/tags/{arn}#tagKeys`;
    `/render/{templateId}` and `/render/{renderId}`), not of the one schemathesis had in mind."""
    title, case = finding["title"], finding.get("case") or {}
    if title not in ("Allow header mismatch", "Wrong response to undeclared method"):
        return None
    keys = _paths_of(document, case)
    own = re.split(r"[?#]", str(case.get("path") or ""), maxsplit=1)[0]
    others = sorted(k for k in keys if k != case.get("path"))
    if not others:
        return None
    methods = set().union(*keys.values())
    if title == "Allow header mismatch":
        match = re.search(r"`Allow: ([^`]*)`", finding["message"])
        allowed = {m.strip() for m in (match.group(1) if match else "").split(",") if m.strip()}
        expected = methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
        if allowed == expected:
            return f"the URL of {own} also matches {', '.join(others)}: Allow lists what that URL accepts, the methods of them all"
        return None
    method = str(case.get("method") or "").upper()
    if method in methods:
        return f"{method} is declared for this URL by another path key it matches ({', '.join(others)})"
    return None


def _declares_4xx(operation: Any, status: int) -> bool:
    return operation.answer_for(status) is not None


def triage(
    finding: dict[str, Any], wire: Wire, reference: Reference, case_id: str | None
) -> str | None:
    """Why `finding` is not the server's fault, or None when it is."""
    title, status = finding["title"], finding.get("status")
    received = wire.received.get(case_id or "")
    if title == "Missing required header accepted":
        match = re.search(r"missing required '([^']+)' header", finding["message"])
        name = (match.group(1) if match else "").lower()
        if name in IGNORED_HEADERS:
            return f"OpenAPI ignores a header parameter named {match.group(1)} (it is described elsewhere), so the server does not require it"  # type: ignore[union-attr]
        if name in CLIENT_HEADERS:
            return f"the HTTP client always sends its own {match.group(1)}, so the request was not missing it"  # type: ignore[union-attr]
    shared = _shared_url(finding, reference.store.document)
    if shared:
        return shared
    if status in (413, 414, 431):
        return f"the request is larger than a limit the server documents (README: request bodies, query strings and header lines): {status} is HTTP's answer to it"
    if received is None and "no operation of" in (finding.get("response_body") or "") and status is not None and status >= 400:
        return "the request names no operation of the document (a value of the parameter its path key names, as X-Amz-Target, that no operation declares): it reached none, and the answer says what the operations sharing the path expect"
    if received is None or status is None:
        return None
    answers = received.operation.answers
    if status == 426 and answers and all(a.status.startswith("1") for a in answers):
        return f"the operation documents only {answers[0].status} (a switch to the WebSocket protocol), which ends no HTTP exchange: a request that did not ask to switch gets 426 Upgrade Required"
    if status in (204, 304) and title in ("Missing Content-Type header", "JSON deserialization error", "Response violates schema"):
        return f"the operation documents content for {status}, which HTTP forbids (RFC 9110: a {status} response has no content)"
    if title == "Schema-valid request rejected" and not any(
        a.status[0] in "23" or a.status == "default" for a in received.operation.answers
    ):
        return "the operation documents no success response (only " + ", ".join(a.status for a in received.operation.answers) + "): the mock answers what it documents"
    if (
        title == "Undocumented status code"
        and status in (401, 403)
        and not _declares_4xx(received.operation, status)
        and not carries_credentials(received, reference.schemes)
    ):
        return f"the request carries none of the credentials the operation's security asks for, and the operation declares no {status}, 4XX or default response"
    accepted = status < 400
    valid, seen = reference.judge(received)
    body = finding.get("response_body") or ""
    if (
        title in ("Schema-valid request rejected", "Undocumented status code")
        and not accepted
        and (TYPELESS in body or (valid and not reference.judge(received, reference.typeless)[0]))
    ):
        return "the body is not an object where a schema has properties but no type: codegen reads such a schema as an object (README, a documented design choice)"
    if title in (
        "Schema-valid request rejected",
        "Schema-violating request accepted",
        "Missing required header accepted",
    ):
        if valid == accepted:
            verdict = "accepts" if valid else "refuses"
            return f"as the server received it, jsonschema {verdict} the request as the server did: {seen}"
        return None
    if (
        title == "Undocumented status code"
        and 400 <= status < 500
        and not valid
        and not _declares_4xx(received.operation, status)
    ):
        return f"the request is invalid ({seen}) and the operation declares no {status}, 4XX or default response: no answer to it is documented"
    return None

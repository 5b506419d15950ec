"""`$ref`s are URI references: a percent-encoded fragment is decoded before it is read as a JSON
pointer, by the loader, the IR, the generated checks and models, and the runtime
(tests/specs/uri-refs)."""

from __future__ import annotations

from typing import Any

import pytest
from codegen.errors import ref_pointer, ref_to, schema_name
from codegen.load import resolve_ref
from codegen.runtime.dialect import canonical_refs
from conftest import Recorder, feature
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def uri_refs(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("uri-refs", tmp_path_factory)


@pytest.mark.parametrize(
    ("ref", "pointer"),
    [
        ("#/paths/~1companies~1%7BcompanyId%7D~1data", "/paths/~1companies~1{companyId}~1data"),
        ("#/paths/%7E1a", "/paths/~1a"),  # decoded first, then read as a pointer (RFC 6901 section 6)
        ("#/components/schemas/R%61ting", "/components/schemas/Rating"),
        ("#/components/schemas/100%25", "/components/schemas/100%"),
        ("#/components/schemas/Plain", "/components/schemas/Plain"),
        ("#", ""),
    ],
)
def test_a_ref_names_its_decoded_fragment(ref: str, pointer: str) -> None:
    assert ref_pointer(ref) == pointer
    assert ref_pointer(ref_to(pointer)) == pointer


def test_refs_are_written_one_way_downstream() -> None:
    document = {
        "a": {"$ref": "#/components/schemas/R%61ting"},
        "b": {"discriminator": {"propertyName": "kind", "mapping": {"x": "#/components/schemas/C%61t", "y": "Dog"}}},
        "c": {"example": {"$ref": "#/kept%20as%20written"}},  # a value of the API, not a reference
    }
    canonical_refs(document)
    assert document["a"] == {"$ref": "#/components/schemas/Rating"}
    assert document["b"]["discriminator"]["mapping"] == {"x": "#/components/schemas/Cat", "y": "Dog"}
    assert document["c"] == {"example": {"$ref": "#/kept%20as%20written"}}
    assert schema_name("#/components/schemas/C%61t") == "Cat"
    assert resolve_ref({"paths": {"/a/{b}": 1}}, "#/paths/~1a~1%7Bb%7D") == 1


def test_a_referenced_parameter_of_another_path_is_read_and_checked(uri_refs: Any) -> None:
    impl = Recorder({"company": "acme", "rating": 4})
    client = TestClient(uri_refs.package.create_app(impl))
    response = client.get("/companies/acme/data/latest?page=2")
    assert response.status_code == 200, response.text
    assert impl.calls[-1] == ("get_latest", {"company_id": "acme", "page": 2})
    # the referenced parameters' schemas: companyId's pattern (a bad path value answers the
    # declared 404) and page's minimum
    assert client.get("/companies/ACME/data/latest").status_code == 404
    assert client.get("/companies/acme/data/latest?page=0").json() == {"detail": "query parameter `page`: must be at least 1"}


def test_a_referenced_response_schema_checks_what_the_implementation_returns(uri_refs: Any) -> None:
    client = TestClient(uri_refs.package.create_app(Recorder({"company": "acme", "rating": 6})), raise_server_exceptions=False)
    # Rating (reached through "#/components/schemas/R%61ting") allows at most 5
    assert client.get("/companies/acme/data/latest").status_code == 500
    assert client.get("/companies/acme/data").status_code == 500
    models = uri_refs.package.models
    assert models.GetDataResponse.model_fields["rating"].annotation is not None
    with pytest.raises(ValueError, match="at most 5"):
        models.GetDataResponse.model_validate({"company": "acme", "rating": 6})


def test_a_referenced_response_and_the_mock_follow_encoded_refs(uri_refs: Any) -> None:
    client = TestClient(uri_refs.package.create_app(mock=True))
    response = client.get("/companies/acme/data/latest")
    assert response.status_code == 200
    uri_refs.assert_answer_valid("get", "/companies/{companyId}/data/latest", response)
    assert 0 <= response.json().get("rating", 0) <= 5


def test_an_encoded_discriminator_mapping_builds_its_model(uri_refs: Any) -> None:
    impl = Recorder()
    client = TestClient(uri_refs.package.create_app(impl))
    assert client.post("/pets", json={"kind": "cat", "lives": 7}).status_code == 204
    assert type(impl.last["body"]).__name__ == "Cat"
    assert client.post("/pets", json={"kind": "cat", "lives": 10}).status_code == 422


@given(st.lists(st.one_of(st.text(alphabet="ab/~0\x00 é", max_size=6), st.integers(0, 20)), max_size=6))
def test_a_pointer_escapes_each_token_and_splits_back(tokens: list[str | int]) -> None:
    """`pointer` takes a shortcut when no token holds "/" or "~": the same pointer as escaping
    each token (RFC 6901), which `split_pointer` reads back."""
    from codegen.runtime.pointers import escape_token, pointer, split_pointer

    expected = "".join("/" + escape_token(t) for t in tokens)
    assert pointer(*tokens) == expected
    assert split_pointer(expected) == [str(t) for t in tokens]

"""The OpenAPI document is complete, and schemathesis fuzzing against it finds no 5xx."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, GenerationMode
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Err, Ok

from tests.api.factories import Api, bearer, hashed_bytes
from tests.profiles import examples

FUZZ = settings(
    max_examples=examples(12),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_openapi_document_is_complete(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["type"] == "http"
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert operation.get("description") or operation.get("summary"), (method, path)
            ok = next(code for code in operation["responses"] if code.startswith("2"))
            content = operation["responses"][ok]["content"]["application/json"]["schema"]
            assert "$ref" in content, (method, path)
            assert operation["responses"].get("422", {}).get("content") or method == "get"
    for name, schema in document["components"]["schemas"].items():
        if name.endswith(("Public", "Create", "Created", "Count")):
            assert schema.get("description"), name


def _operation(result: Ok[APIOperation] | Err[InvalidSchema]) -> APIOperation:
    """One operation of the schema, or the error that kept schemathesis from reading it."""
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


def test_fuzzing_finds_no_server_errors(api: Api) -> None:
    round_id, tokens = api.create_round()
    api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1, 2]))
    api.upload(round_id, tokens["polis"], hashed_bytes(round_id, "polis", [2, 3]))
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    operations = [_operation(result) for result in schema.get_all_operations()]
    # Destructive operations last, so the others also meet a live round.
    operations.sort(key=lambda op: (op.method.upper() == "DELETE", "token" in op.path, op.path))
    headers = [api.coordinator, bearer(tokens["skola"]), {}]
    statuses: dict[str, set[int]] = {}
    for operation in operations:
        label = operation.label

        @FUZZ
        @given(
            case=st.one_of(
                operation.as_strategy(),
                operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
            ),
            real=st.booleans(),
            who=st.sampled_from(headers),
        )
        def check(case: Any, real: bool, who: dict[str, str]) -> None:
            if real and "round_id" in (case.path_parameters or {}):
                case.path_parameters["round_id"] = round_id
            response = case.call(headers=who)
            statuses.setdefault(label, set()).add(response.status_code)  # noqa: B023
            assert response.status_code < 500, (label, response.status_code)  # noqa: B023

        check()
    # The fuzzing reached the routes themselves, not only the authentication in front of them.
    assert any(code < 300 for codes in statuses.values() for code in codes)
    assert sum(1 for codes in statuses.values() if codes - {401, 403}) >= len(statuses) // 2

"""The API against its own OpenAPI document, fuzzed: whatever the path and query parameters
or the POST body, the server answers with a status the document lists, a content type it
lists for that status, and a body that matches the schema; never a 5xx."""

from __future__ import annotations

import json
import os
import re
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from web.api.openapi import document

DOC = document()
SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

values = st.one_of(
    st.integers(-5, 40).map(str),
    st.sampled_from(
        [
            "09506000134352",
            "9506000134352",
            "96385074",
            "TS-26/A",
            "farm-a",
            "2025-05-01",
            "shipment",
            "cot-1",
            "",
            "0",
            "1e3",
            "99999999999999999999",
        ]
    ),
    st.text(max_size=30),
)


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": DOC["components"]})


def check(response: Any, op: dict[str, Any], where: str) -> None:
    status = response.status_code
    assert status < 500, (where, response.get_data(as_text=True))
    spec = op["responses"].get(str(status)) or op["responses"].get("default")
    assert spec is not None, f"{where}: status {status} is not documented"
    content = spec.get("content")
    if not content:
        return
    assert response.mimetype in content, f"{where}: {response.mimetype} not in {list(content)}"
    if response.mimetype == "application/json":
        errors = list(validator(content["application/json"]["schema"]).iter_errors(response.get_json()))
        assert not errors, f"{where}: {errors[0]}"


GETS = [(path, item["get"]) for path, item in DOC["paths"].items() if "get" in item]


@SETTINGS
@given(data=st.data())
def test_get_routes_keep_their_contract(client: Any, product: dict[str, Any], data: Any) -> None:
    path, op = data.draw(st.sampled_from(GETS), label="operation")
    url = path
    query: dict[str, str] = {}
    for param in op.get("parameters", []):
        value = data.draw(values, label=param["name"])
        if param["in"] == "path":
            url = url.replace("{" + param["name"] + "}", quote(value, safe="") or "x")
        elif data.draw(st.booleans(), label=f"send {param['name']}"):
            query[param["name"]] = value
    if query:
        url += "?" + urlencode(query)
    accept = data.draw(st.sampled_from(["*/*", "application/json", "text/html"]), label="accept")
    response = client.get(url, headers={"Accept": accept})
    if response.status_code == 301:
        assert re.match(r"^/01/[0-9]{14}/10/", response.headers["Location"])
    check(response, op, url)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@SETTINGS
@given(
    body=st.one_of(
        json_values.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=64),
        st.fixed_dictionaries({"statement": json_values, "signature": json_values}).map(
            lambda v: json.dumps(v).encode()
        ),
    )
)
def test_post_refuses_garbage_with_a_documented_error(client: Any, cast: Any, body: bytes) -> None:
    op = DOC["paths"]["/api/v1/entries"]["post"]
    response = client.post("/api/v1/entries", data=body, content_type="application/json")
    assert response.status_code != 201
    check(response, op, repr(body[:60]))

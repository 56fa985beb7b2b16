"""The API contract (PRODUCT §8): an OpenAPI document at /api/v1/schema/ listing the fixed
paths, and interactive docs at /api/v1/docs/ served from the installed package (no CDN)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlparse

import pytest
from django.contrib.staticfiles import finders
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

# PRODUCT §8: "The names below are fixed so that other systems can rely on them."
FIXED = [
    ("/api/v1/auth/token/", "post"),
    ("/api/v1/tars/", "get"),
    ("/api/v1/tars/", "post"),
    ("/api/v1/tars/{tar_id}/", "get"),
    ("/api/v1/tars/{tar_id}/decision", "post"),
    ("/api/v1/tars/{tar_id}/extend", "post"),
    ("/api/v1/tars/{tar_id}/request-info", "post"),
    ("/api/v1/tars/{tar_id}/refer", "post"),
    ("/api/v1/clock/preview", "get"),
    ("/api/v1/coverage-requirements", "get"),
    ("/api/v1/criteria/evaluate", "post"),
]
# README's table: the rest of the workflow and the lookups.
DOCUMENTED = [
    ("/api/v1/members/", "get"),
    ("/api/v1/providers/", "get"),
    ("/api/v1/referrals/", "get"),
    ("/api/v1/referrals/", "post"),
    ("/api/v1/tars/{tar_id}/claim", "post"),
    ("/api/v1/tars/{tar_id}/release", "post"),
    ("/api/v1/tars/{tar_id}/respond", "post"),
    ("/api/v1/tars/{tar_id}/withdraw", "post"),
    ("/api/v1/tars/{tar_id}/attachments", "get"),
    ("/api/v1/tars/{tar_id}/attachments", "post"),
    ("/api/v1/attachments/{attachment_id}/download", "get"),
]


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200, response.content[:300]
    return response.json()


def _request_properties(schema: dict, path: str, method: str) -> dict:
    body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return _resolve(schema, body)["properties"]


def _resolve(schema: dict, node: dict) -> dict:
    ref = node.get("$ref")
    if ref is None:
        return node
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_schema_is_served_to_anyone_as_a_valid_openapi_3_document(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "TAR Portal API"
    validate_schema(schema)  # raises on an invalid document


def test_schema_is_yaml_by_default():
    response = APIClient().get("/api/v1/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert b"openapi: 3." in response.content


@pytest.mark.parametrize(("path", "method"), FIXED, ids=[f"{m} {p}" for p, m in FIXED])
def test_fixed_paths_of_product_8_are_listed(schema, path, method):
    assert path in schema["paths"], sorted(schema["paths"])
    assert method in schema["paths"][path]


@pytest.mark.parametrize(("path", "method"), DOCUMENTED, ids=[f"{m} {p}" for p, m in DOCUMENTED])
def test_documented_paths_are_listed(schema, path, method):
    assert method in schema["paths"].get(path, {}), sorted(schema["paths"])


def test_query_parameters_of_the_fixed_lookups(schema):
    def names(path):
        return {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}

    assert {"received_at", "request_type", "urgency"} <= names("/api/v1/clock/preview")
    assert {"member", "code", "date"} <= names("/api/v1/coverage-requirements")
    assert {"status", "urgency", "request_type", "family", "assigned_to", "member"} <= names(
        "/api/v1/tars/"
    )


def test_each_operation_documents_its_own_request_body(schema):
    """Every view names its serializer `InputSerializer`; each must still get its own
    component, or the TAR submission would be documented as a login form."""
    tar = _request_properties(schema, "/api/v1/tars/", "post")
    assert {"member", "servicing_provider", "request_type", "urgency", "lines"} <= set(tar)
    assert "password" not in tar
    token = _request_properties(schema, "/api/v1/auth/token/", "post")
    assert set(token) == {"username", "password", "otp"}
    decision = _request_properties(schema, "/api/v1/tars/{tar_id}/decision", "post")
    assert {"outcome", "reason_code", "rationale", "criteria_refs"} <= set(decision)
    extend = _request_properties(schema, "/api/v1/tars/{tar_id}/extend", "post")
    assert {"reason", "new_due_at", "note"} <= set(extend)
    referral = _request_properties(schema, "/api/v1/referrals/", "post")
    assert {"member", "to_organization", "valid_from", "valid_to"} <= set(referral)


def test_enum_values_match_product_8(schema):
    tar = _request_properties(schema, "/api/v1/tars/", "post")
    request_type = _resolve(schema, tar["request_type"])
    assert set(request_type["enum"]) == {"pre_service", "concurrent", "post_service"}
    extend = _request_properties(schema, "/api/v1/tars/{tar_id}/extend", "post")
    assert set(_resolve(schema, extend["reason"])["enum"]) == {
        "information_not_received",
        "expert_review_needed",
        "additional_exam_needed",
        "requested_by_member_or_provider",
    }


def test_token_authentication_is_declared(schema):
    schemes = schema["components"]["securitySchemes"]
    assert any(
        s.get("type") == "apiKey" and s.get("name") == "Authorization" for s in schemes.values()
    )


def test_error_responses_use_the_one_error_shape(schema):
    responses = schema["paths"]["/api/v1/tars/{tar_id}/decision"]["post"]["responses"]
    for status in ("400", "403", "404", "409"):
        body = responses[status]["content"]["application/json"]["schema"]
        assert set(_resolve(schema, body)["properties"]) == {"code", "message", "fields"}


# --- Swagger UI ----------------------------------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


@pytest.fixture(scope="module")
def docs_html(django_db_blocker) -> str:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/v1/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


@pytest.fixture(scope="module")
def docs_script(django_db_blocker) -> str:
    """The page's start-up script, served as a file (no inline script under the CSP)."""
    with django_db_blocker.unblock():
        response = APIClient().get("/api/v1/docs/?script=")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    return response.content.decode()


def test_docs_render_swagger_ui(docs_html, docs_script):
    assert '<div id="swagger-ui">' in docs_html
    assert "<script>" not in docs_html
    assert "SwaggerUIBundle" in docs_script
    assert "/api/v1/schema/" in docs_script  # the page loads our own schema


def test_docs_load_every_script_and_stylesheet_locally(docs_html):
    parser = _Assets()
    parser.feed(docs_html)
    assert any(url.endswith("swagger-ui-bundle.js") for url in parser.urls)
    assert any(url.endswith("swagger-ui.css") for url in parser.urls)
    for url in parser.urls:
        parsed = urlparse(url)
        assert not parsed.scheme and not parsed.netloc, f"external asset {url}"
        if url == "/api/v1/docs/?script=":
            continue  # the start-up script, from this view (docs_script)
        assert url.startswith("/static/"), url
        # And the file ships with an installed package: nothing is fetched from elsewhere.
        assert finders.find(url.removeprefix("/static/")) is not None, url


def test_docs_name_no_external_host(docs_html):
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", docs_html)
    for cdn in ("unpkg.com", "jsdelivr", "cdnjs", "googleapis"):
        assert cdn not in docs_html


def _enum_with(schema: dict, value: str) -> list[str]:
    """The schema component enums that list `value`."""
    return [
        name
        for name, component in schema["components"]["schemas"].items()
        if value in (component.get("enum") or [])
    ]


def test_the_history_action_enum_is_the_one_vocabulary(schema):
    """One HistoryAction for every record: the request's actions and the appeal, talk and IMR
    ones are listed together, as stored."""
    from authorizations.models import HistoryAction

    (name,) = _enum_with(schema, "appeal_filed")
    assert set(schema["components"]["schemas"][name]["enum"]) == set(HistoryAction.values)
    assert "decided" in schema["components"]["schemas"][name]["enum"]


def test_detail_responses_list_the_actions_on_offer(schema):
    components = schema["components"]["schemas"]
    for component in ("TarDetailOutput", "AppealDetailOutput", "ImrDetailOutput"):
        assert "actions" in components[component]["properties"], component

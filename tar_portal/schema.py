"""OpenAPI post-processing (drf-spectacular hook): every API operation documents the error
answers the API can give, in the one error shape (tar_portal.errors). Any operation may be
refused as malformed by the input gate (400), unauthenticated (401), forbidden (403), not
found (404), in conflict with the record's state (409) or throttled (429): said here once,
not repeated on each view."""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["code", "message", "fields"],
}
ERROR_STATUSES = {
    "400": "The request is not valid (see fields).",
    "401": "No or bad credentials.",
    "403": "The caller may not do this.",
    "404": "Not found, or not the caller's to see.",
    "405": "Method not allowed.",
    "409": "Not possible in the record's current state.",
    "422": "The request conflicts with an earlier one (an Idempotency-Key reused).",
    "429": "Too many requests: try again later.",
}


def document_errors(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(ERROR_COMPONENT, ERROR_SCHEMA)
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result

"""FHIR answers for the fhir-auth views: the content type, and OperationOutcome errors."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, JsonResponse

FHIR_JSON = "application/fhir+json"


def operation_outcome(
    code: str, diagnostics: str, detail: str | None = None, severity: str = "error"
) -> dict[str, Any]:
    """An OperationOutcome with one issue (R4 issue-type `code`); `detail` is our stable
    error code, as the issue's details.text."""
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if detail:
        issue["details"] = {"text": detail}
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def fhir_response(resource: dict[str, Any], status: int = 200) -> HttpResponse:
    response = JsonResponse(resource, status=status, content_type=FHIR_JSON)
    response["Cache-Control"] = "no-store"
    return response


class FhirError(Exception):
    """A request the FHIR face refuses: HTTP status, issue type, plain words (no PHI)."""

    def __init__(self, status: int, code: str, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail

    def response(self) -> HttpResponse:
        return fhir_response(operation_outcome(self.code, self.message, self.detail), self.status)

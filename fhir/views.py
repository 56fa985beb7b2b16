"""The PAS endpoints (PRODUCT §11): thin views over fhir.submit / fhir.inquire, FHIR JSON in
and out, every refusal an OperationOutcome (never the REST API's error shape, never a 500
page)."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fhir import access
from fhir.auth_models import SmartScope
from fhir.capability import capability_statement
from fhir.inquire import pas_inquire
from fhir.responses import operation_outcome
from fhir.submit import InvalidBundle, pas_submit
from fhir.validation import Issue, IssueType
from tar_portal.errors import DomainError

FHIR_JSON = "application/fhir+json"


class FhirJSONRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class FhirJSONParser(JSONParser):
    media_type = FHIR_JSON


def _outcome(status: int, code: IssueType, message: str) -> Response:
    return Response(
        operation_outcome([Issue(expression="", diagnostics=message, code=code)]), status=status
    )


class FhirView(APIView):
    """FHIR JSON both ways; authentication by access.AUTHENTICATION_CLASSES."""

    # FHIR's own contract is the CapabilityStatement (/fhir/metadata), not the REST API's
    # OpenAPI schema: out of it, so `check --deploy` has no schema warnings for these views.
    schema = None
    renderer_classes = [FhirJSONRenderer, JSONRenderer]
    parser_classes = [FhirJSONParser, JSONParser]
    # Not part of the REST API's OpenAPI schema (/api/v1/schema/): the FHIR face is described
    # by /fhir/metadata, and schemathesis would call "$submit" as "submit".
    schema = None

    def get_authenticators(self):
        return [cls() for cls in access.AUTHENTICATION_CLASSES]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response = _outcome(401, IssueType.LOGIN, str(exc.detail))
            response["WWW-Authenticate"] = 'Bearer realm="fhir"'
            return response
        if isinstance(exc, exceptions.PermissionDenied):
            return _outcome(403, IssueType.FORBIDDEN, str(exc.detail))
        if isinstance(exc, exceptions.ParseError):
            return _outcome(400, IssueType.STRUCTURE, "The body is not JSON.")
        if isinstance(exc, exceptions.UnsupportedMediaType):
            return _outcome(415, IssueType.STRUCTURE, f"Send {FHIR_JSON}.")
        if isinstance(exc, exceptions.Throttled):
            return _outcome(429, IssueType.PROCESSING, "Too many requests.")
        if isinstance(exc, exceptions.MethodNotAllowed):
            return _outcome(405, IssueType.PROCESSING, str(exc.detail))
        if isinstance(exc, InvalidBundle):
            return Response(operation_outcome(exc.issues), status=400)
        if isinstance(exc, DomainError):
            return _outcome(exc.http_status, IssueType.PROCESSING, exc.message)
        return super().handle_exception(exc)


def _bundle_from(body: Any) -> Any:
    """The PAS Bundle: the body itself, or a Parameters' `resource` parameter (the
    OperationDefinition's input)."""
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        for parameter in body.get("parameter") or []:
            if isinstance(parameter, dict) and parameter.get("name") == "resource":
                return parameter.get("resource")
        return None
    return body


class MetadataView(FhirView):
    permission_classes = [AllowAny]  # FHIR servers publish their capabilities openly

    def get(self, request: Request) -> Response:
        return Response(capability_statement())


class ClaimSubmitView(FhirView):
    def post(self, request: Request) -> Response:
        organization = access.caller_organization(request, scope=SmartScope.CLAIM_WRITE)
        answer = pas_submit(
            user=request.user, organization=organization, bundle=_bundle_from(request.data)
        )
        return Response(answer, status=200)


class ClaimInquireView(FhirView):
    def post(self, request: Request) -> Response:
        organization = access.caller_organization(request, scope=SmartScope.CLAIM_RESPONSE_READ)
        answer = pas_inquire(
            user=request.user, organization=organization, bundle=_bundle_from(request.data)
        )
        return Response(answer, status=200)

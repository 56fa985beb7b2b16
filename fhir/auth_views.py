"""The SMART token endpoint, the SMART configuration and the Subscription resource (PRODUCT
§11). Thin views: fhir.smart and fhir.subscriptions hold the rules."""

from __future__ import annotations

import json
import logging
import math
from functools import partial
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fhir import smart, subscriptions, tasks
from fhir.auth_http import FhirError, fhir_response, operation_outcome
from fhir.throttles import TOKEN_THROTTLES
from tar_portal.throttles import throttle_check

logger = logging.getLogger(__name__)
READ = smart.SmartScope.SUBSCRIPTION_READ.value
WRITE = smart.SmartScope.SUBSCRIPTION_WRITE.value


def _token_urls(request: HttpRequest) -> tuple[str, ...]:
    """The addresses of the token endpoint an assertion's aud may name: as this request
    reached it, and as the configured public base URL names it."""
    from django.conf import settings

    path = reverse("fhir:oauth-token")
    return (
        request.build_absolute_uri(path),
        settings.PORTAL_BASE_URL.rstrip("/") + path,
    )


def _oauth_response(body: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    # RFC 6749 §5.1: token responses are never cached.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    """POST /oauth/token: client_credentials with a private_key_jwt assertion. Rate limited
    per client and per address (fhir.throttles): 429 with Retry-After."""
    wait = throttle_check(request, TOKEN_THROTTLES)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        response = _oauth_response(
            {
                "error": "temporarily_unavailable",
                "error_description": f"Too many token requests; retry in {seconds} seconds.",
            },
            429,
        )
        response["Retry-After"] = str(seconds)
        return response
    if request.content_type != "application/x-www-form-urlencoded":
        return _oauth_response(
            {
                "error": "invalid_request",
                "error_description": "Send the token request as application/x-www-form-urlencoded.",
            },
            400,
        )
    try:
        body = smart.token_issue(form=request.POST, token_urls=_token_urls(request))
    except smart.SmartError as exc:
        # The client id and the error code only: never the assertion.
        logger.info("token refused: %s", exc.error)
        response = _oauth_response(exc.as_dict(), exc.status)
        if exc.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="fhir", error="invalid_client"'
        return response
    return _oauth_response(body)


@require_GET
def smart_configuration(request: HttpRequest) -> JsonResponse:
    """GET /.well-known/smart-configuration (also under /fhir/)."""
    return JsonResponse(
        smart.smart_configuration(token_url=request.build_absolute_uri(reverse("fhir:oauth-token")))
    )


def _auth_error(exc: smart.SmartError) -> HttpResponse:
    response = fhir_response(
        operation_outcome(
            "security" if exc.status == 401 else "forbidden", exc.description, exc.error
        ),
        status=exc.status,
    )
    response["WWW-Authenticate"] = smart.www_authenticate(exc)
    return response


def _json_body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise FhirError(400, "invalid", "The body is not JSON.") from None


@csrf_exempt
@require_http_methods(["GET", "POST"])
def subscription_collection(request: HttpRequest) -> HttpResponse:
    """POST /fhir/Subscription (create) and GET /fhir/Subscription (the caller's, as a
    searchset Bundle)."""
    try:
        write = request.method == "POST"
        caller = smart.caller_for(
            request,
            scope=smart.SmartScope.SUBSCRIPTION_WRITE
            if write
            else smart.SmartScope.SUBSCRIPTION_READ,
        )
        if write:
            subscription = subscriptions.subscription_create(
                caller=caller, resource=_json_body(request)
            )
            # The handshake, after commit (requested → active or error); the beat's run
            # catches it up if the nudge is lost.
            transaction.on_commit(
                partial(tasks.subscription_handshake_task.delay, subscription.pk), robust=True
            )
            response = fhir_response(subscriptions.subscription_resource(subscription), 201)
            response["Location"] = request.build_absolute_uri(
                reverse("fhir:subscription-detail", args=[subscription.pk])
            )
            return response
        return fhir_response(
            subscriptions.subscription_search_bundle(
                caller=caller, base_url=request.build_absolute_uri("/fhir/")
            )
        )
    except smart.SmartError as exc:
        return _auth_error(exc)
    except FhirError as exc:
        return exc.response()


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
def subscription_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """GET /fhir/Subscription/{id}, DELETE /fhir/Subscription/{id} (status becomes off)."""
    try:
        delete = request.method == "DELETE"
        caller = smart.caller_for(
            request,
            scope=smart.SmartScope.SUBSCRIPTION_WRITE
            if delete
            else smart.SmartScope.SUBSCRIPTION_READ,
        )
        subscription = subscriptions.subscription_get(caller=caller, pk=pk)
        if delete:
            subscriptions.subscription_delete(caller=caller, subscription=subscription)
            return fhir_response(
                operation_outcome(
                    "informational", f"Subscription/{pk} is off.", None, "information"
                ),
                200,
            )
        return fhir_response(subscriptions.subscription_resource(subscription))
    except smart.SmartError as exc:
        return _auth_error(exc)
    except FhirError as exc:
        return exc.response()


@require_GET
def subscription_status(request: HttpRequest, pk: int) -> HttpResponse:
    """GET /fhir/Subscription/{id}/$status (R4 Subscriptions Backport): a searchset Bundle
    with the subscription's SubscriptionStatus (type query-status). The caller's own only."""
    try:
        caller = smart.caller_for(request, scope=smart.SmartScope.SUBSCRIPTION_READ)
        subscription = subscriptions.subscription_get(caller=caller, pk=pk)
        return fhir_response(subscriptions.status_search_bundle(subscription))
    except smart.SmartError as exc:
        return _auth_error(exc)
    except FhirError as exc:
        return exc.response()

"""One gate for what clients send (issue 12), before any view sees it.

- NUL bytes and other control characters (anything in Unicode's Cc category except tab,
  line feed and carriage return) are refused with 400 wherever they appear: the path, a
  query parameter (name or value), a JSON body (keys and string values, at any depth) or a
  form field (names, values and uploaded file names). PostgreSQL cannot store NUL in text,
  so without this gate they surfaced as 500s; the others have no business in a request.
- JSON bodies are capped in size (TAR_JSON_MAX_BYTES) and nesting depth (TAR_JSON_MAX_DEPTH);
  any body is capped at TAR_REQUEST_MAX_BYTES.
- Under /api/ every 404 and 405 answers in the API's error shape, also where Django (not
  DRF) answers, e.g. with DEBUG on.

Refusals use the API shape `{"code", "message", "fields"}` under /api/ and the error page
elsewhere (tar_portal.views).
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError

from tar_portal.views import error_response

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_MESSAGE = "Control characters (such as NUL) are not allowed."


class _Refused(Exception):
    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


def _name(name: str) -> str:
    # A field whose *name* carries control characters is reported without them.
    return CONTROL.sub("?", name)[:100] or "?"


def _check_text(field: str, value: str, bad: dict[str, list[str]]) -> None:
    if CONTROL.search(value):
        bad.setdefault(_name(field), [CONTROL_MESSAGE])


def _check_querydict(data: QueryDict, bad: dict[str, list[str]]) -> None:
    for key, values in data.lists():
        _check_text(key, key, bad)
        for value in values:
            if isinstance(value, str):
                _check_text(key, value, bad)


def _walk_json(value: Any, path: str, depth: int, bad: dict[str, list[str]]) -> None:
    if depth > settings.TAR_JSON_MAX_DEPTH:
        raise _Refused(f"The JSON body is nested deeper than {settings.TAR_JSON_MAX_DEPTH} levels.")
    if isinstance(value, str):
        _check_text(path or "body", value, bad)
    elif isinstance(value, dict):
        for key, sub in value.items():
            child = f"{path}.{key}" if path else str(key)
            _check_text(child, str(key), bad)
            _walk_json(sub, child, depth + 1, bad)
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            _walk_json(sub, f"{path}[{index}]" if path else f"[{index}]", depth + 1, bad)


def _check_json(request: HttpRequest, bad: dict[str, list[str]]) -> None:
    body = request.body
    if len(body) > settings.TAR_JSON_MAX_BYTES:
        raise _Refused(f"The JSON body is larger than {settings.TAR_JSON_MAX_BYTES} bytes.")
    if not body:
        return
    try:
        parsed = json.loads(body)
    except RecursionError as exc:
        raise _Refused(
            f"The JSON body is nested deeper than {settings.TAR_JSON_MAX_DEPTH} levels."
        ) from exc
    except ValueError:
        return  # not JSON at all: the API's parser answers that (400 in the same shape)
    _walk_json(parsed, "", 0, bad)


def _check_body(request: HttpRequest, bad: dict[str, list[str]]) -> None:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > settings.TAR_REQUEST_MAX_BYTES:
        raise _Refused(f"The request is larger than {settings.TAR_REQUEST_MAX_BYTES} bytes.")
    content_type = (request.content_type or "").lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        _check_json(request, bad)
    elif content_type == "application/x-www-form-urlencoded":
        if request.method == "POST":
            _check_querydict(request.POST, bad)
        else:
            _check_querydict(QueryDict(request.body, encoding=request.encoding), bad)
    elif content_type == "multipart/form-data" and request.method == "POST":
        _check_querydict(request.POST, bad)
        for key, upload in request.FILES.items():
            _check_text(key, key, bad)
            _check_text(key, upload.name or "", bad)


def _refusal(request: HttpRequest, message: str, fields: dict[str, list[str]]) -> HttpResponse:

    return error_response(request, 400, "invalid", message, fields=fields)


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bad: dict[str, list[str]] = {}
        try:
            _check_text("path", request.path_info, bad)
            _check_querydict(request.GET, bad)
            if not bad:
                _check_body(request, bad)
        except _Refused as exc:
            return _refusal(request, exc.message, exc.fields)
        except (RequestDataTooBig, TooManyFieldsSent, MultiPartParserError):
            return _refusal(request, "The request body is too large or malformed.", {})
        except (SuspiciousOperation, UnicodeDecodeError):
            return _refusal(request, "The request could not be understood.", {})
        if bad:
            return _refusal(request, "The request contains characters that are not allowed.", bad)
        return _api_errors_as_json(request, self.get_response(request))


def _api_errors_as_json(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if not request.path_info.startswith("/api/") or response.status_code not in (404, 405):
        return response
    if response.get("Content-Type", "").startswith("application/json"):
        return response
    if response.status_code == 404:
        body = {"code": "not_found", "message": "Not found.", "fields": {}}
    else:
        body = {
            "code": "method_not_allowed",
            "message": f'Method "{request.method}" not allowed.',
            "fields": {},
        }
    replacement = JsonResponse(body, status=response.status_code)
    if "Allow" in response:
        replacement["Allow"] = response["Allow"]
    return replacement

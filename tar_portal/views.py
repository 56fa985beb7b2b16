from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def error_response(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    *,
    fields: dict[str, list[str]] | None = None,
) -> HttpResponse:
    """The API error shape under /api/, the error page elsewhere."""
    if _wants_json(request):
        return JsonResponse(
            {"code": code, "message": message, "fields": fields or {}}, status=status
        )
    return render(request, "error.html", {"status": status, "message": message}, status=status)


_error = error_response


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 400, "invalid", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 403, "permission_denied", "You do not have access to this page.")


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found.")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "server_error", "Something went wrong on our side; try again.")

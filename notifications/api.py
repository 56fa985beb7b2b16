"""API v1 for letters and criteria copies: one thin view per operation (STYLE §2)."""

from __future__ import annotations

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from authorizations import selectors as tar_selectors
from authorizations.api import ERRORS
from notifications import selectors, services
from notifications.models import CriteriaCopyRequest, CriteriaCopyRequestedFor, Letter


class LetterOutput(serializers.ModelSerializer):
    tar = serializers.IntegerField(source="tar_id")
    notice = serializers.IntegerField(source="notice_id")
    notice_status = serializers.CharField(source="notice.status")
    supersedes = serializers.IntegerField(source="supersedes_id", allow_null=True)
    current = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Letter
        fields = [
            "id",
            "tar",
            "notice",
            "notice_status",
            "kind",
            "audience",
            "language",
            "large_print",
            "version",
            "supersedes",
            "current",
            "correction_reason",
            "letter_date",
            "page_count",
            "size",
            "sha256",
            "created_at",
            "download_url",
        ]

    def get_current(self, letter: Letter) -> bool:
        return not hasattr(letter, "superseded_by")

    def get_download_url(self, letter: Letter) -> str:
        return reverse("api-letter-download", kwargs={"letter_id": letter.pk})


class TarLettersApi(APIView):
    @extend_schema(responses={200: LetterOutput(many=True), **ERRORS})
    def get(self, request: Request, tar_id: int) -> Response:
        tar = tar_selectors.tar_get(user=request.user, tar_id=tar_id)
        letters = selectors.letter_list(user=request.user, tar=tar)
        return Response(LetterOutput(letters, many=True).data)


class LetterDownloadApi(APIView):
    @extend_schema(responses={(200, "application/pdf"): bytes, **ERRORS})
    def get(self, request: Request, letter_id: int):
        letter = selectors.letter_get(user=request.user, letter_id=letter_id)
        services.letter_record_download(letter=letter, user=request.user)
        response = FileResponse(
            letter.file.open("rb"),
            content_type="application/pdf",
            as_attachment=True,
            filename=letter.filename,
        )
        response["Cache-Control"] = "private, no-store"
        return response


class CriteriaCopyOutput(serializers.ModelSerializer):
    tar = serializers.IntegerField(source="tar_id")
    decision = serializers.IntegerField(source="decision_id", allow_null=True)
    letter = serializers.IntegerField(source="letter_id", allow_null=True)
    notice = serializers.IntegerField(source="notice_id", allow_null=True)

    class Meta:
        model = CriteriaCopyRequest
        fields = [
            "id",
            "tar",
            "decision",
            "requested_for",
            "criteria_sets",
            "requested_at",
            "fulfilled_at",
            "notice",
            "letter",
        ]


class CriteriaCopyInput(serializers.Serializer):
    requested_for = serializers.ChoiceField(
        choices=CriteriaCopyRequestedFor.choices, required=False
    )


class TarCriteriaCopyApi(APIView):
    @extend_schema(request=CriteriaCopyInput, responses={201: CriteriaCopyOutput, **ERRORS})
    def post(self, request: Request, tar_id: int) -> Response:
        serializer = CriteriaCopyInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Providers ask for their office's copy; everyone else by default for the member.
        default = (
            CriteriaCopyRequestedFor.PROVIDER
            if request.user.role == Role.PROVIDER
            else CriteriaCopyRequestedFor.MEMBER
        )
        copy_request = services.criteria_copy_request(
            tar_id=tar_id,
            user=request.user,
            requested_for=serializer.validated_data.get("requested_for", default),
        )
        copy_request.refresh_from_db()
        return Response(CriteriaCopyOutput(copy_request).data, status=201)

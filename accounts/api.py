from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.otp import otp_api_login_check
from accounts.tokens import token_issue
from tar_portal.throttles import LOGIN_THROTTLES


class TokenApi(APIView):
    """POST username and password → {"token", "expiry"}: a new token for this client, valid
    until `expiry` (accounts.tokens). Locked accounts and too many attempts get 429. Plan
    staff with two-step sign-in, and every UM manager, also send `otp`: the 6-digit code of
    their authenticator app (accounts.otp.otp_api_login_check)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = LOGIN_THROTTLES

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TokenLogin"  # nested InputSerializers would share one OpenAPI name

        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=256, trim_whitespace=False)
        otp = serializers.CharField(
            max_length=12,
            required=False,
            allow_blank=True,
            help_text="The 6-digit code of the user's authenticator app, when two-step "
            "sign-in is on for the account (always for UM managers).",
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Token"

        token = serializers.CharField()
        expiry = serializers.DateTimeField(allow_null=True)
        role = serializers.CharField()
        username = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = otp_api_login_check(
            request=request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
            otp=serializer.validated_data.get("otp"),
        )
        key, expiry = token_issue(user=user)
        return Response(
            {
                "token": key,
                "expiry": serializers.DateTimeField().to_representation(expiry) if expiry else None,
                "role": user.role,
                "username": user.username,
            }
        )

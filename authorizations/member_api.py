from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import PLAN_STAFF_ROLES
from authorizations import selectors
from members.models import EligibilitySpan, Member
from tar_portal.errors import DomainError, ErrorCode
from tar_portal.pagination import Pagination


class SpanOutput(serializers.ModelSerializer):
    class Meta:
        model = EligibilitySpan
        fields = ["start_date", "end_date", "retroactive", "granted_on"]


class MemberOutput(serializers.ModelSerializer):
    eligible_today = serializers.SerializerMethodField()
    eligibility_spans = SpanOutput(many=True)
    pcp = serializers.CharField(source="pcp.npi", default=None)
    pcp_name = serializers.CharField(source="pcp.name", default=None)
    pcp_organization = serializers.CharField(source="pcp.organization.name", default=None)

    class Meta:
        model = Member
        fields = [
            "cin",
            "first_name",
            "last_name",
            "date_of_birth",
            "written_language",
            "alternate_format",
            "pcp",
            "pcp_name",
            "pcp_organization",
            "eligible_today",
            "eligibility_spans",
            "hospice",
            "terminal_condition",
            "cancer_diagnosis",
        ]

    def get_eligible_today(self, obj: Member) -> bool:
        return obj.is_eligible_on(timezone.localdate())


class StaffMemberOutput(MemberOutput):
    class Meta(MemberOutput.Meta):
        fields = [
            *MemberOutput.Meta.fields,
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "phone",
        ]


def _output(user, member_or_members, many=False):
    cls = StaffMemberOutput if user.role in PLAN_STAFF_ROLES else MemberOutput
    return cls(member_or_members, many=many).data


class MemberListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("cin", str),
            OpenApiParameter("date_of_birth", str, description="YYYY-MM-DD; with cin"),
        ],
        responses={200: MemberOutput(many=True)},
    )
    def get(self, request: Request) -> Response:
        cin = request.query_params.get("cin", "")
        if cin:
            dob = request.query_params.get("date_of_birth")
            parsed = None
            if dob:
                try:
                    parsed = serializers.DateField().to_internal_value(dob)
                except serializers.ValidationError as exc:
                    raise DomainError(
                        ErrorCode.INVALID,
                        "Not a date.",
                        fields={"date_of_birth": ["Use YYYY-MM-DD."]},
                    ) from exc
            try:
                member = selectors.member_get(user=request.user, cin=cin, date_of_birth=parsed)
            except DomainError:
                members = []
            else:
                members = [member]
            return Response(
                {
                    "count": len(members),
                    "next": None,
                    "previous": None,
                    "results": _output(request.user, members, many=True),
                }
            )
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.member_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(_output(request.user, page, many=True))


class MemberDetailApi(APIView):
    @extend_schema(responses={200: MemberOutput})
    def get(self, request: Request, cin: str) -> Response:
        member = selectors.member_get(user=request.user, cin=cin)
        return Response(_output(request.user, member))

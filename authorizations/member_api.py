from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import PLAN_STAFF_ROLES, Role
from authorizations import selectors
from authorizations.member_lookup import LookupResult, provider_member_lookup
from members.models import EligibilitySpan, Member
from tar_portal.errors import DomainError, ErrorCode
from tar_portal.pagination import Pagination
from tar_portal.throttles import MEMBER_LOOKUP_THROTTLES


class SpanOutput(serializers.ModelSerializer):
    class Meta:
        model = EligibilitySpan
        fields = ["start_date", "end_date", "retroactive", "granted_on"]


class MemberOutput(serializers.ModelSerializer):
    eligible_today = serializers.SerializerMethodField()
    eligibility_spans = SpanOutput(many=True)
    pcp = serializers.CharField(source="pcp.npi", default=None, allow_null=True)
    pcp_name = serializers.CharField(source="pcp.name", default=None, allow_null=True)
    pcp_organization = serializers.CharField(
        source="pcp.organization.name", default=None, allow_null=True
    )

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


class EligibilityOnlyOutput(serializers.Serializer):
    """What a provider sees of a member its office has no relationship with (issue 12)."""

    cin = serializers.CharField()
    eligible_today = serializers.BooleanField()
    eligibility_spans = serializers.ListField(child=serializers.DictField())
    relationship = serializers.BooleanField()

    def to_representation(self, instance):
        return {
            "cin": instance.cin,
            "eligible_today": instance.is_eligible_on(timezone.localdate()),
            "eligibility_spans": [
                {"start_date": s.start_date, "end_date": s.end_date}
                for s in instance.eligibility_spans.all()
            ],
            "relationship": False,
        }


def _output(user, member_or_members, many=False):
    cls = StaffMemberOutput if user.role in PLAN_STAFF_ROLES else MemberOutput
    return cls(member_or_members, many=many).data


def _provider_output(result: LookupResult) -> dict:
    if not result.related:
        return EligibilityOnlyOutput(result.member).data
    return {**MemberOutput(result.member).data, "relationship": True}


def _date_of_birth(request: Request, *, required: bool):
    dob = request.query_params.get("date_of_birth", "")
    if not dob:
        if required:
            raise DomainError(
                ErrorCode.INVALID,
                "Look a member up with the CIN and the date of birth.",
                fields={"date_of_birth": ["Required with cin (YYYY-MM-DD)."]},
            )
        return None
    try:
        return serializers.DateField().to_internal_value(dob)
    except serializers.ValidationError as exc:
        raise DomainError(
            ErrorCode.INVALID, "Not a date.", fields={"date_of_birth": ["Use YYYY-MM-DD."]}
        ) from exc


def _provider_lookup(request: Request, cin: str) -> LookupResult | None:
    if not cin:
        raise DomainError(
            ErrorCode.INVALID,
            "Look a member up with the CIN and the date of birth.",
            fields={"cin": ["Required for provider users."]},
        )
    return provider_member_lookup(
        user=request.user,
        cin=cin,
        date_of_birth=_date_of_birth(request, required=True),
        channel="api",
        request=request._request,
    )


def _one_page(rows: list) -> Response:
    return Response(
        {"count": len(rows), "count_capped": False, "next": None, "previous": None, "results": rows}
    )


class MemberListApi(APIView):
    # Documents the paginated envelope (count, next, previous, results) in the schema.
    pagination_class = Pagination

    """Staff search every member; members find themselves; providers look a member up with
    CIN and date of birth and see eligibility only unless their office cares for the member
    (authorizations.member_lookup). Throttled per user and per address."""

    throttle_classes = MEMBER_LOOKUP_THROTTLES

    @extend_schema(
        parameters=[
            OpenApiParameter("cin", str),
            OpenApiParameter("date_of_birth", str, description="YYYY-MM-DD; with cin"),
        ],
        responses={200: MemberOutput(many=True)},
    )
    def get(self, request: Request) -> Response:
        cin = request.query_params.get("cin", "")
        if request.user.role == Role.PROVIDER:
            result = _provider_lookup(request, cin)
            return _one_page([_provider_output(result)] if result else [])
        if cin:
            _date_of_birth(request, required=False)  # a malformed one is still a 400
            try:
                member = selectors.member_get(user=request.user, cin=cin)
            except DomainError:
                return _one_page([])
            return _one_page(_output(request.user, [member], many=True))
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.member_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(_output(request.user, page, many=True))


class MemberDetailApi(APIView):
    throttle_classes = MEMBER_LOOKUP_THROTTLES

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "date_of_birth", str, description="YYYY-MM-DD; required for provider users"
            )
        ],
        responses={200: MemberOutput},
    )
    def get(self, request: Request, cin: str) -> Response:
        if request.user.role == Role.PROVIDER:
            result = _provider_lookup(request, cin)
            if result is None:
                raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
            return Response(_provider_output(result))
        member = selectors.member_get(user=request.user, cin=cin)
        return Response(_output(request.user, member))

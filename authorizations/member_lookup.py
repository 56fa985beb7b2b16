"""Member lookup by provider users, without an oracle (issue 12).

A provider finds a member only with the CIN *and* the date of birth, and then sees the
member's eligibility only. Demographics and the clinical flags are shown only to an office
that already has a relationship with the member:

- the member's assigned PCP is in the office;
- the office holds a valid referral (RAF) to it (active, not yet expired);
- a request of the office that plan staff have acted on (claimed, pended, referred, decided,
  extended...): a bare submission does not count, or submitting would be a way in.

Anything else — no such CIN, a wrong date of birth — answers exactly like "no match". Every
lookup by a provider, found or not, is written to `members.MemberLookup`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, Value
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import PLAN_STAFF_ROLES, Role, User
from authorizations.models import HistoryAction, HistoryEntry, Referral, ReferralStatus
from members.models import LookupOutcome, Member, MemberLookup
from members.validators import normalize_cin

# One message for "no such member", "not eligible" and "no relationship" wherever a provider
# names a member (lookups and TAR submissions), so the answer never tells them apart.
MEMBER_NOT_AVAILABLE = (
    "No eligible member with this CIN that your office can request for: check the CIN, the "
    "service dates and the referral (RAF) from the member's primary-care office."
)
LOOKUP_NO_MATCH = (
    "No member with this CIN and date of birth. Check both against the member's Medi-Cal card."
)

# Staff reads are not an acceptance of the request.
_READ_ACTIONS = (HistoryAction.CLINICAL_READ, HistoryAction.ATTACHMENT_READ, "imr_packet_read")


def relationship_q(organization_id: int) -> Q:
    """The members an office has a relationship with (module docstring), as a condition on
    `Member` rows. Each branch is correlated to the member (the staff actions through the
    history's index on the member: its own few rows), so no branch reads the office's whole
    history — as `pk IN (every staff action on the office's requests)` it hashed that history
    whenever the PCP and the referral did not answer first — and no join repeats a member
    (issue 16)."""
    today = timezone.localdate()
    referral = Referral.objects.filter(
        member_id=OuterRef("pk"),
        to_organization_id=organization_id,
        status=ReferralStatus.ACTIVE,
        valid_to__gte=today,
    )
    accepted = HistoryEntry.objects.filter(
        Q(tar__requesting_organization_id=organization_id)
        | Q(tar__servicing_organization_id=organization_id),
        member_id=OuterRef("pk"),
        actor_role__in=PLAN_STAFF_ROLES,
    ).exclude(action__in=_READ_ACTIONS)
    return Q(pcp__organization_id=organization_id) | Q(Exists(referral)) | Q(Exists(accepted))


def relationship_exists(user: User) -> ExpressionWrapper | Value:
    """`provider_has_relationship` as an annotation, for reading the member in the same query."""
    if user.role != Role.PROVIDER or not user.organization_id:
        return Value(False)
    return ExpressionWrapper(relationship_q(user.organization_id), output_field=BooleanField())


def provider_has_relationship(*, user: User, member: Member) -> bool:
    if user.role != Role.PROVIDER or not user.organization_id:
        return False
    return Member.objects.filter(relationship_q(user.organization_id), pk=member.pk).exists()


@dataclass(frozen=True)
class LookupResult:
    member: Member
    # False: the provider is shown eligibility only (no name, address, PCP or clinical flags).
    related: bool


def _client_address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR only: behind the proxy, Django's SECURE_PROXY_SSL_HEADER does not rewrite it
    # and a client-set X-Forwarded-For must not be able to hide who looked.
    return request.META.get("REMOTE_ADDR") or None


def provider_member_lookup(
    *,
    user: User,
    cin: str,
    date_of_birth: date,
    channel: str,
    request: HttpRequest | None = None,
) -> LookupResult | None:
    """A provider's lookup: the member only if the CIN and the date of birth both match;
    None otherwise. Written to the lookup audit either way."""
    cin = normalize_cin(cin)
    member = (
        Member.objects.select_related("pcp__organization")
        .prefetch_related("eligibility_spans")
        .filter(cin=cin, date_of_birth=date_of_birth)
        .first()
    )
    related = member is not None and provider_has_relationship(user=user, member=member)
    if member is None:
        outcome = LookupOutcome.NOT_FOUND
    else:
        outcome = LookupOutcome.RELATED if related else LookupOutcome.ELIGIBILITY_ONLY
    MemberLookup.objects.create(
        user=user,
        organization_id=user.organization_id,
        member=member,
        cin=cin[:20],
        date_of_birth=date_of_birth,
        outcome=outcome,
        channel=channel,
        address=_client_address(request),
    )
    if member is None:
        return None
    return LookupResult(member=member, related=related)

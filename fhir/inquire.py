"""`Claim/$inquire`: the current state of the caller's matching requests (PRODUCT §11).

Only the caller organization's own requests are searched (requested by it; the same scope
as the REST API, narrowed to the requesting side, which is whose Claim it was). A match is
by the Claim's identifier (the one sent with `$submit`) or the TAR number; without one, by
member (the Patient's CIN) and, when the inquiry names them, the service codes and dates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date

from accounts.models import User
from authorizations import selectors
from authorizations.member_lookup import MEMBER_NOT_AVAILABLE
from authorizations.models import ProviderOrganization, Tar
from fhir.responses import RejectReason, error_response_bundle, inquiry_response_bundle
from fhir.submit import InvalidBundle, member_cin
from fhir.validation import BundleKind, validate_bundle

MAX_MATCHES = 20


def _codes(concept: Any) -> set[str]:
    if not isinstance(concept, dict):
        return set()
    return {
        str(c.get("code", "")).upper() for c in concept.get("coding") or [] if isinstance(c, dict)
    }


def pas_inquire(
    *, user: User, organization: ProviderOrganization, bundle: Any, now: datetime | None = None
) -> dict:
    now = now or timezone.now()
    issues = validate_bundle(bundle, BundleKind.INQUIRE)
    if issues:
        raise InvalidBundle(issues)
    claim = bundle["entry"][0]["resource"]
    scope = selectors.tar_scope_q(user)
    mine = (
        Tar.objects.none()
        if scope is None
        else Tar.objects.filter(scope).filter(requesting_organization=organization)
    )
    values = [str(i.get("value", "")) for i in claim.get("identifier") or [] if i.get("value")]
    matches = list(
        mine.filter(
            Q(pas_request__claim_value__in=values, pas_request__organization=organization)
            | Q(number__in=values)
        ).distinct()[:MAX_MATCHES]
    )
    if not matches:
        cin = member_cin(bundle, claim)
        candidates = mine.filter(member__cin=cin) if cin else mine.none()
        codes = set().union(*(_codes(i.get("productOrService")) for i in claim.get("item") or []))
        if codes:
            candidates = candidates.filter(lines__code__in=codes)
        for item in claim.get("item") or []:
            day = parse_date(str(item.get("servicedDate") or "")[:10])
            if day is not None:
                candidates = candidates.filter(
                    lines__service_date_from__lte=day, lines__service_date_to__gte=day
                )
        matches = list(candidates.distinct().order_by("-received_at")[:MAX_MATCHES])
    if not matches:
        return error_response_bundle(
            request_bundle=bundle,
            errors=[
                (
                    RejectReason.SUBSCRIBER_NOT_FOUND,
                    "Bundle.entry[0].resource",
                    "No request from your organization matches this inquiry. "
                    + MEMBER_NOT_AVAILABLE,
                )
            ],
            now=now,
            inquiry=True,
        )
    identifier = bundle.get("identifier")
    return inquiry_response_bundle(
        matches,
        identifier={k: v for k, v in identifier.items() if k in ("system", "value")}
        if isinstance(identifier, dict)
        else None,
        now=now,
    )

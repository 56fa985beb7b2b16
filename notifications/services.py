"""Which notices an event owes and by when, the letters that carry them, and their delivery
(PRODUCT §4 and §7). Tasks (`notifications.tasks`) call these; they are safe to run twice.

- `notices_for_event` is the event outbox's notices consumer: it records what a domain event
  owes (notifications.policy) and queues one delivery task per notice.
- `notice_deliver` renders the letter (once: unique (notice, version)) and, for a provider
  notice, e-mails it to the office with the PDF attached; it is in the portal inbox either way.
- Member letters go to the mail house in print batches: `print_batch_build` then
  `print_batch_mark_mailed`, which is when a member notice counts as sent.
- `letter_reissue` issues a corrected letter as a new version; letters are never rewritten.
- `criteria_copy_request` sends the exact criteria-set versions used (H&S 1363.5).
"""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import PLAN_STAFF_ROLES, Role, User
from appeals.services import adverse_notice_dated
from authorizations import clocks
from authorizations.calendar import plan_calendar
from authorizations.models import DomainEvent, EventKind, HistoryAction, HistoryEntry, Tar
from authorizations.selectors import tar_scope_q
from authorizations.services import history_record
from authorizations.workflow import SYSTEM
from notifications.context import LetterContext
from notifications.letter_contexts import build_context
from notifications.mail import letter_ready_email
from notifications.models import (
    NOTICE_TRANSITIONS,
    Audience,
    CriteriaCopyRequest,
    CriteriaCopyRequestedFor,
    Delivery,
    DeliveryChannel,
    Letter,
    Notice,
    NoticeKind,
    NoticeStatus,
    PrintBatch,
    PrintBatchItem,
    PrintBatchStatus,
)
from notifications.policy import notices_owed
from notifications.rendering import render_letter_document
from tar_portal.errors import DomainError, ErrorCode, invalid

logger = logging.getLogger(__name__)

# Member letters of an adverse benefit determination whose date starts the 60-day appeal
# window (42 CFR 438.402(c)(2)(ii)); an IMR outcome on a case not under appeal is one too.
APPEALABLE_NOTICE_KINDS = frozenset(
    {
        NoticeKind.DENIAL,
        NoticeKind.MODIFICATION,
        NoticeKind.DELAY,
        NoticeKind.UNTIMELY,
        NoticeKind.IMR_OUTCOME,
    }
)
# Who may correct a letter (a new version) or confirm that the mail house mailed a batch.
LETTER_CORRECTION_ROLES = frozenset(
    {Role.NURSE, Role.PHYSICIAN, Role.MEMBER_SERVICES, Role.MANAGER}
)
PRINT_BATCH_ROLES = frozenset({Role.INTAKE, Role.MANAGER})
# A print batch stays a size the mail house takes in one file and a worker merges in memory
# (bench: 250 letters, 1,100 pages, 6.5 MiB, ~90 MiB peak while merging).
PRINT_BATCH_MAX_LETTERS = 500
# Plan target for sending a requested criteria copy (no statutory clock; PRODUCT §7 says only
# "on request"): the same two business days as a member notice.
CRITERIA_COPY_RULE = "criteria_copy_2_business_days"
CRITERIA_COPY_DEDUP_WINDOW = timedelta(days=1)
# An owed notice whose task has not run after this long is queued again (beat).
STALLED_AFTER_MINUTES = 10
STALLED_MAX_ATTEMPTS = 5
# Overdue notices marked per sweep transaction.
OVERDUE_BATCH_SIZE = 1000


# --- notices owed ---------------------------------------------------------------------------


def _owe(
    tar: Tar, *, event_key: str, kind: str, audience: str, due_at: datetime, rule: str
) -> Notice:
    notice, _ = Notice.objects.get_or_create(
        tar=tar,
        event_key=event_key,
        kind=kind,
        audience=audience,
        defaults={"due_at": due_at, "due_rule": rule},
    )
    return notice


def _queue_delivery(notice_ids: list[int]) -> None:
    """One task per notice, queued only after the notices are committed (STYLE §7). Robust:
    if the broker is down the request that caused the event still succeeds; the notice stays
    owed and the deadline sweep flags it if it is not sent in time."""
    from notifications.tasks import notice_deliver as task

    for notice_id in notice_ids:
        transaction.on_commit(partial(task.delay, notice_id=notice_id), robust=True)


def notices_for_event(event: DomainEvent) -> list[Notice]:
    """The notices consumer of the event outbox: record the notices the event owes
    (notifications.policy) and queue their letters. Runs in the outbox's transaction for
    this consumer. Idempotent: the unique (tar, event key, kind, audience) makes a repeated
    call a no-op, and a repeated delivery task finds its letter already made. Returns the
    notices this call created."""
    owed_specs = notices_owed(event)
    if not owed_specs:
        return []
    tar = event.tar
    if tar is None:
        # Only an event about a request owes request notices (notifications.policy).
        raise ValueError(f"event {event.pk} ({event.kind}) owes notices but has no request")
    before = set(tar.notices.values_list("pk", flat=True))
    owed = [
        _owe(
            tar,
            event_key=spec.event_key,
            kind=spec.kind,
            audience=spec.audience,
            due_at=spec.due_at,
            rule=spec.rule,
        )
        for spec in owed_specs
    ]
    # Queue every notice of this event still owed, not only new ones: if a first call's task
    # was lost, a repeated event recovers it; a task that finds its work done is a no-op.
    _queue_delivery([n.pk for n in owed if n.status == NoticeStatus.OWED])
    return [n for n in owed if n.pk not in before]


def notices_for_events(events: list[DomainEvent]) -> None:
    """`notices_for_event` for a chunk of events (the outbox's batch path, issue 16): every
    notice they owe inserted in one statement (the unique (tar, event key, kind, audience)
    skips those already owed), then every one of them still owed queued for delivery."""
    owed = {
        (event.tar_id, spec.event_key, spec.kind, spec.audience): spec
        for event in events
        if event.tar_id is not None
        for spec in notices_owed(event)
    }
    if not owed:
        return
    Notice.objects.bulk_create(
        [
            Notice(
                tar_id=tar_id,
                event_key=key,
                kind=kind,
                audience=audience,
                due_at=spec.due_at,
                due_rule=spec.rule,
            )
            for (tar_id, key, kind, audience), spec in owed.items()
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    rows = Notice.objects.filter(
        tar_id__in={tar_id for tar_id, *_ in owed},
        event_key__in={key for _, key, *_ in owed},
        status=NoticeStatus.OWED,
    ).values_list("pk", "tar_id", "event_key", "kind", "audience")
    _queue_delivery([pk for pk, *natural in rows if tuple(natural) in owed])


def notices_mark_overdue(*, now: datetime | None = None) -> int:
    """The notices' deadline sweep (beat, every minute): owed notices whose due time passed
    are marked once (a conditional update on `overdue_at IS NULL`, over the partial index
    notice_owed_due_idx) and written to the TAR history."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            Notice.objects.filter(
                status=NoticeStatus.OWED, overdue_at__isnull=True, due_at__lte=now
            )
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", "tar_id", "tar__member_id", "kind", "audience", "due_at")[
                :OVERDUE_BATCH_SIZE
            ]
        )
        if not rows:
            return 0
        Notice.objects.filter(pk__in=[r[0] for r in rows], overdue_at__isnull=True).update(
            overdue_at=now
        )
        HistoryEntry.objects.bulk_create(
            [
                HistoryEntry(
                    tar_id=tar_id,
                    member_id=member_id,
                    actor_role=SYSTEM,
                    action=HistoryAction.NOTICE_OVERDUE,
                    reason=f"The {kind} notice to the {audience} was not sent by its deadline.",
                    detail={"notice": pk, "due_at": due_at.isoformat()},
                    at=now,
                )
                for pk, tar_id, member_id, kind, audience, due_at in rows
            ]
        )
    return len(rows)


# --- notice status (one place; updates filtered on the old status) --------------------------


def _notice_set_status(*, notice_id: int, to: str, **fields: Any) -> bool:
    """Move a notice to `to` if its current status allows it (NOTICE_TRANSITIONS). The update
    is filtered on the allowed old statuses, so a late or repeated task never undoes a newer
    state (healthchecks' pattern). Returns whether the notice moved."""
    sources = NOTICE_TRANSITIONS[to]
    return bool(Notice.objects.filter(pk=notice_id, status__in=sources).update(status=to, **fields))


def _notice_mark_sent(*, notice: Notice, at: datetime, via: str) -> bool:
    """Sent, and a `notice.sent` event in the same transaction: the reports' notice
    timeliness (reports.aggregates) follows it from the outbox, never from a hope that
    nothing crashes after this commit."""
    with transaction.atomic():
        moved = _notice_set_status(
            notice_id=notice.pk,
            to=NoticeStatus.SENT,
            sent_at=at,
            sent_on_time=at <= notice.due_at,
            delivered_via=via,
            failed_at=None,
            last_error="",
        )
        if moved:
            DomainEvent.objects.create(
                kind=EventKind.NOTICE_SENT,
                subject_type="tar",
                subject_id=notice.tar_id,
                tar_id=notice.tar_id,
                payload={"notice": notice.pk, "kind": notice.kind, "audience": notice.audience},
            )
    return moved


def stalled_backoff(attempts: int) -> timedelta:
    """How long after an attempt a notice still owed counts as stalled: 10, 20, 40, 80 min."""
    return timedelta(minutes=STALLED_AFTER_MINUTES * 2 ** max(attempts - 1, 0))


def notices_requeue_stalled(*, now: datetime | None = None) -> list[int]:
    """Beat: queue again the owed notices whose delivery never finished: the task never ran
    (the broker was down when it was queued after commit), or its worker was killed mid-task
    (the attempt started and nothing came of it). Bounded, with backoff: after
    STALLED_MAX_ATTEMPTS attempts the notice is failed, for staff to act on (admin retry)."""
    now = now or timezone.now()
    owed = Notice.objects.filter(status=NoticeStatus.OWED).exclude(
        audience=Audience.MEMBER, letters__isnull=False
    )
    never_ran = owed.filter(
        attempts=0, created_at__lte=now - timedelta(minutes=STALLED_AFTER_MINUTES)
    )
    died = Q()
    for attempts in range(1, STALLED_MAX_ATTEMPTS):
        died |= Q(attempts=attempts, last_attempt_at__lte=now - stalled_backoff(attempts))
    stalled = list((never_ran | owed.filter(died)).values_list("pk", flat=True).distinct()[:1000])
    exhausted = list(
        owed.filter(
            attempts__gte=STALLED_MAX_ATTEMPTS,
            last_attempt_at__lte=now - stalled_backoff(STALLED_MAX_ATTEMPTS),
        ).values_list("pk", flat=True)[:1000]
    )
    for notice_id in exhausted:
        notice_mark_failed(
            notice_id=notice_id, error="delivery never completed after repeated attempts", now=now
        )
    with transaction.atomic():
        _queue_delivery(stalled)
    return stalled


def notice_record_error(*, notice_id: int, error: str) -> None:
    """A delivery attempt failed and will be retried."""
    Notice.objects.filter(pk=notice_id).update(last_error=error[:300])


def notice_mark_failed(*, notice_id: int, error: str, now: datetime | None = None) -> bool:
    """Retries are exhausted: staff must act (admin filter, `selectors.notices_failed`)."""
    moved = _notice_set_status(
        notice_id=notice_id,
        to=NoticeStatus.FAILED,
        last_error=error[:300],
        failed_at=now or timezone.now(),
    )
    if moved:
        logger.error("notice %s failed after retries: %s", notice_id, error)
    return moved


def notice_retry(*, notice_id: int, user: User) -> Notice:
    """Staff ask for a failed notice to be tried again (after fixing an address, say)."""
    if user.role not in PLAN_STAFF_ROLES:
        raise DomainError(ErrorCode.PERMISSION_DENIED, "Only plan staff retry notices.")
    notice = Notice.objects.filter(pk=notice_id).first()
    if notice is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
    with transaction.atomic():
        # A fresh round of attempts: the stalled-notice job counts them again from zero.
        if not _notice_set_status(
            notice_id=notice_id, to=NoticeStatus.OWED, failed_at=None, attempts=0
        ):
            raise DomainError(
                ErrorCode.INVALID_TRANSITION, f"The notice is {notice.status}, not failed."
            )
        _queue_delivery([notice_id])
    notice.refresh_from_db()
    return notice


# --- letters --------------------------------------------------------------------------------


def _letter_store(
    *,
    notice: Notice,
    context: LetterContext,
    version: int,
    supersedes: Letter | None = None,
    created_by: User | None = None,
) -> Letter:
    """Render and store one letter version. The unique (notice, version) turns a concurrent
    or repeated attempt into a no-op that returns the row already written."""
    rendered = render_letter_document(notice.kind, context)
    digest = hashlib.sha256(rendered.pdf).hexdigest()
    letter = Letter(
        notice=notice,
        tar_id=notice.tar_id,
        audience=notice.audience,
        kind=notice.kind,
        language=context.language,
        large_print=context.large_print,
        alternate_format=notice.tar.member.alternate_format
        if notice.audience == Audience.MEMBER
        else "",
        version=version,
        letter_date=context.letter_date,
        size=len(rendered.pdf),
        page_count=rendered.page_count,
        sha256=digest,
        supersedes=supersedes,
        correction_reason=context.correction_reason,
        created_by=created_by,
    )
    name = (
        f"{notice.tar.number}-{notice.kind}-{notice.audience}-n{notice.pk}-v{version}-"
        f"{digest[:12]}.pdf"
    )
    letter.file.save(name, ContentFile(rendered.pdf), save=False)
    try:
        with transaction.atomic():
            letter.save()
            if notice.audience == Audience.MEMBER and notice.kind in APPEALABLE_NOTICE_KINDS:
                # 42 CFR 438.402(c)(2)(ii): the appeal window counts from this letter's date.
                adverse_notice_dated(
                    tar_id=notice.tar_id,
                    event_key=notice.event_key,
                    kind=notice.kind,
                    letter_date=letter.letter_date,
                    version=version,
                )
    except IntegrityError:
        if letter.file.name:
            letter.file.storage.delete(letter.file.name)
        existing = Letter.objects.filter(notice=notice, version=version).first()
        if existing is None:
            raise
        return existing
    return letter


def letter_generate(*, notice_id: int) -> Letter:
    """The first letter for a notice; returns the existing one when already made."""
    existing = Letter.objects.filter(notice_id=notice_id, version=1).first()
    if existing is not None:
        return existing
    notice = Notice.objects.select_related("tar__member").get(pk=notice_id)
    return _letter_store(notice=notice, context=build_context(notice), version=1)


def letter_reissue(*, letter_id: int, user: User, reason: str) -> Letter:
    """A corrected letter: a new version that supersedes the latest one, rendered from the
    current records. The old version stays, unchanged, in the record."""
    if user.role not in LETTER_CORRECTION_ROLES:
        raise DomainError(ErrorCode.PERMISSION_DENIED, "Your role may not correct letters.")
    reason = (reason or "").strip()
    if not reason:
        raise invalid("Say what is corrected.", reason="The corrected letter states what changed.")
    with transaction.atomic():
        letter = Letter.objects.filter(pk=letter_id).first()
        if letter is None:
            raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
        # Serialise corrections of one notice so versions never collide.
        notice = (
            Notice.objects.select_for_update(of=("self",))
            .select_related("tar__member")
            .get(pk=letter.notice_id)
        )
        latest = notice.letters.order_by("-version").first()
        assert latest is not None
        if latest.pk != letter.pk:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"Version {latest.version} is the current letter; correct that one.",
            )
        version = latest.version + 1
        context = build_context(notice, version=version, correction_reason=reason)
        new = _letter_store(
            notice=notice, context=context, version=version, supersedes=latest, created_by=user
        )
        from notifications.tasks import letter_deliver

        transaction.on_commit(lambda: letter_deliver.delay(letter_id=new.pk), robust=True)
    return new


def letter_record_download(*, letter: Letter, user: User) -> None:
    """PRODUCT §3: plan staff reading a member's record (a letter) is written to the history."""
    if user.role in PLAN_STAFF_ROLES:
        history_record(
            tar=letter.tar,
            member=letter.tar.member,
            actor=user,
            action=HistoryAction.CLINICAL_READ,
            detail={"letter": letter.pk, "kind": letter.kind, "audience": letter.audience},
        )


# --- delivery -------------------------------------------------------------------------------


def _provider_addresses(tar: Tar) -> list[str]:
    """The requesting and servicing offices' notice addresses, each once."""
    addresses: list[str] = []
    for organization in (tar.requesting_organization, tar.servicing_organization):
        email = (organization.email or "").strip()
        if email and email not in addresses:
            addresses.append(email)
    return addresses


def _letter_email(letter: Letter) -> str:
    """E-mail each office on the request that a provider letter is ready, once per address
    (Delivery is unique per letter and recipient, so a retry resends only what failed). The
    message names the request number only and links to the letter behind login."""
    tar = Tar.objects.select_related("requesting_organization", "servicing_organization").get(
        pk=letter.tar_id
    )
    addresses = _provider_addresses(tar)
    if not addresses:
        # No address on file: the portal inbox is the delivery.
        Delivery.objects.get_or_create(
            letter=letter,
            channel=DeliveryChannel.PORTAL,
            recipient=tar.requesting_organization.name[:254],
        )
        return DeliveryChannel.PORTAL
    done = set(
        Delivery.objects.filter(letter=letter, channel=DeliveryChannel.EMAIL).values_list(
            "recipient", flat=True
        )
    )
    for address in addresses:
        if address in done:
            continue
        # No PHI in mail: a link to the letter behind login, no attachment (issue 12).
        message = letter_ready_email(letter=letter, tar_number=tar.number, to=address)
        message.send(fail_silently=False)
        Delivery.objects.get_or_create(
            letter=letter, channel=DeliveryChannel.EMAIL, recipient=address
        )
    return DeliveryChannel.EMAIL


def _criteria_copy_fulfil(*, notice: Notice, letter: Letter, now: datetime) -> None:
    CriteriaCopyRequest.objects.filter(notice=notice, letter__isnull=True).update(
        letter=letter, fulfilled_at=now
    )


def notice_deliver(*, notice_id: int, now: datetime | None = None) -> Notice | None:
    """Make the notice's letter and send it where it goes now. Provider notices: the letter is
    in the office's portal inbox and e-mailed; the notice is then sent. Member notices wait
    for the next print batch. Safe to run again at any point."""
    notice = Notice.objects.select_related("tar").filter(pk=notice_id).first()
    if notice is None or notice.status != NoticeStatus.OWED:
        return notice
    now = now or timezone.now()
    made = Letter.objects.filter(notice_id=notice_id, version=1).first()
    if made is not None and notice.audience == Audience.MEMBER:
        # Done already: the letter waits for the print batch.
        if notice.kind == NoticeKind.CRITERIA_COPY:
            _criteria_copy_fulfil(notice=notice, letter=made, now=now)
        return notice
    Notice.objects.filter(pk=notice_id).update(attempts=F("attempts") + 1, last_attempt_at=now)
    letter = made or letter_generate(notice_id=notice_id)
    if notice.kind == NoticeKind.CRITERIA_COPY:
        _criteria_copy_fulfil(notice=notice, letter=letter, now=now)
    if notice.audience == Audience.PROVIDER:
        via = _letter_email(letter)
        _notice_mark_sent(notice=notice, at=timezone.now(), via=via)
    notice.refresh_from_db()
    return notice


def letter_deliver(*, letter_id: int) -> None:
    """Send a corrected letter the way its notice goes: e-mail now for a provider; a member's
    goes out in the next print batch (superseded versions are left out of batches)."""
    letter = Letter.objects.filter(pk=letter_id).first()
    if letter is not None and letter.audience == Audience.PROVIDER:
        _letter_email(letter)


# --- member mail: print batches ------------------------------------------------------------


def print_batch_build(*, now: datetime | None = None) -> PrintBatch | None:
    """Merge the member letters not yet batched (current versions only) into one PDF for the
    mail house. Each letter starts on a new sheet (a blank page pads odd page counts for
    duplex printing). Two builders never take the same letter (SKIP LOCKED + unique item)."""
    from pypdf import PdfReader, PdfWriter

    now = now or timezone.now()
    with transaction.atomic():
        letters = list(
            Letter.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                audience=Audience.MEMBER,
                print_item__isnull=True,
                superseded_by__isnull=True,
            )
            .order_by("created_at", "id")[:PRINT_BATCH_MAX_LETTERS]
        )
        if not letters:
            return None
        writer = PdfWriter()
        placements: list[tuple[Letter, int, int]] = []
        page = 1
        for letter in letters:
            with letter.file.open("rb") as handle:
                reader = PdfReader(io.BytesIO(handle.read()))
            writer.append(reader)
            count = len(reader.pages)
            placements.append((letter, page, count))
            page += count
            if count % 2:
                box = reader.pages[-1].mediabox
                writer.add_blank_page(width=box.width, height=box.height)
                page += 1
        buffer = io.BytesIO()
        writer.write(buffer)
        data = buffer.getvalue()
        batch = PrintBatch(
            sha256=hashlib.sha256(data).hexdigest(),
            letter_count=len(letters),
            page_count=page - 1,
            created_at=now,
        )
        batch.file.save(
            f"print-batch-{now:%Y%m%dT%H%M%S}-{batch.sha256[:12]}.pdf",
            ContentFile(data),
            save=False,
        )
        batch.save()
        PrintBatchItem.objects.bulk_create(
            PrintBatchItem(
                batch=batch, letter=letter, position=index, first_page=first, page_count=count
            )
            for index, (letter, first, count) in enumerate(placements, start=1)
        )
    logger.info("print batch %s: %s letters, %s pages", batch.pk, len(letters), page - 1)
    return batch


def print_batch_mark_mailed(
    *, batch_id: int, user: User, mailed_at: datetime | None = None
) -> PrintBatch:
    """The mail house confirmed it mailed the batch: each member notice in it is sent at that
    time (H&S 1367.01: mailed within 2 business days), and whether it met its due time is
    recorded. Marking a batch twice changes nothing."""
    if user.role not in PRINT_BATCH_ROLES:
        raise DomainError(
            ErrorCode.PERMISSION_DENIED, "Only the mail room or a UM manager confirms mailing."
        )
    mailed_at = mailed_at or timezone.now()
    with transaction.atomic():
        batch = PrintBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
        if batch.status == PrintBatchStatus.MAILED:
            return batch
        PrintBatch.objects.filter(pk=batch.pk, status=PrintBatchStatus.BUILT).update(
            status=PrintBatchStatus.MAILED, mailed_at=mailed_at, mailed_by=user
        )
        items = batch.items.select_related("letter__notice", "letter__tar__member")
        for item in items:
            letter = item.letter
            Delivery.objects.get_or_create(
                letter=letter,
                channel=DeliveryChannel.MAIL,
                recipient=letter.tar.member.full_name[:254],
                defaults={"batch": batch, "delivered_at": mailed_at},
            )
            _notice_mark_sent(notice=letter.notice, at=mailed_at, via=DeliveryChannel.MAIL)
        batch.refresh_from_db()
    return batch


# --- criteria copies ------------------------------------------------------------------------


def _criteria_versions(tar: Tar, decision) -> list[dict[str, str]]:
    """The exact set versions used: those the decision cited, else those the lines were
    evaluated under (a decision that cited none, e.g. an approval)."""
    seen: list[dict[str, str]] = []
    refs = (decision.criteria_refs if decision is not None else None) or []
    for ref in refs:
        entry = {"criteria_set": ref["criteria_set"], "version": ref["version"]}
        if entry not in seen:
            seen.append(entry)
    if not seen:
        for line in tar.lines.select_related("criteria_set").order_by("line_number"):
            if line.criteria_set is not None:
                entry = {
                    "criteria_set": line.criteria_set.set_id,
                    "version": line.criteria_set.version,
                }
                if entry not in seen:
                    seen.append(entry)
    return seen


def criteria_copy_on_its_way(
    *, tar: Tar, requested_for: str, user: User | None = None, now: datetime | None = None
) -> CriteriaCopyRequest | None:
    """The copy of the criteria for this reader that is still on its way (its notice owed, or
    failed and being retried by staff), or that `user` asked for within the last day; None
    when a new one may be asked for."""
    now = now or timezone.now()
    on_its_way = Q(notice__status__in=(NoticeStatus.OWED, NoticeStatus.FAILED))
    if user is not None:
        on_its_way |= Q(requested_by=user, requested_at__gte=now - CRITERIA_COPY_DEDUP_WINDOW)
    return (
        CriteriaCopyRequest.objects.filter(tar=tar, requested_for=requested_for)
        .filter(on_its_way)
        .order_by("-requested_at", "-id")
        .first()
    )


def criteria_copy_request(
    *, tar_id: int, user: User, requested_for: str = "member"
) -> CriteriaCopyRequest:
    """A member (in the portal or through member services) or a provider asks for the
    criteria used for a request (H&S 1363.5; 002 "Availability of Criteria"). The copy is a
    letter with the full text of each exact set version, sent like any notice."""

    if requested_for not in CriteriaCopyRequestedFor.values:
        raise invalid("Unknown recipient.", requested_for="Use member or provider.")
    scope = tar_scope_q(user)
    tar = (
        Tar.objects.filter(scope).select_related("member").filter(pk=tar_id).first()
        if scope is not None
        else None
    )
    if tar is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
    if user.role == Role.MEMBER and requested_for != CriteriaCopyRequestedFor.MEMBER:
        raise DomainError(ErrorCode.PERMISSION_DENIED, "A member asks for their own copy.")
    if user.role == Role.PROVIDER and requested_for != CriteriaCopyRequestedFor.PROVIDER:
        raise DomainError(
            ErrorCode.PERMISSION_DENIED,
            "A provider office asks for its own copy; the member asks through member services.",
        )
    decision = tar.decisions.order_by("-decided_at", "-id").first()
    versions = _criteria_versions(tar, decision)
    if not versions:
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            "No criteria have been applied to this request, so there is nothing to copy yet.",
        )
    now = timezone.now()
    # The same requester asking again for the same request within a day, or anyone asking
    # for the same reader's copy while it is still being mailed, gets the copy already on
    # its way, not another letter (issue 12: unlimited copies, unlimited mail; issue 15).
    recent = criteria_copy_on_its_way(tar=tar, requested_for=requested_for, user=user, now=now)
    if recent is not None:
        return recent
    with transaction.atomic():
        request = CriteriaCopyRequest.objects.create(
            tar=tar,
            decision=decision,
            requested_by=user,
            requested_for=requested_for,
            criteria_sets=versions,
            requested_at=now,
        )
        due = clocks.mailing_deadline(decided_at=now, calendar=plan_calendar())
        notice = Notice.objects.create(
            tar=tar,
            kind=NoticeKind.CRITERIA_COPY,
            audience=requested_for,
            event_key=f"criteria_copy:{request.pk}",
            due_at=due.due_at,
            due_rule=CRITERIA_COPY_RULE,
            created_at=now,
        )
        request.notice = notice
        request.save(update_fields=["notice"])
        _queue_delivery([notice.pk])
    return request

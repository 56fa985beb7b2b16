"""Delivery against the clocks: provider e-mail with the PDF, member mail in print batches,
idempotent tasks, retries then failure, immutable letters and corrected versions."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import F
from pypdf import PdfReader

from authorizations.models import DomainEvent, EventKind, Tar
from authorizations.workflow.outbox import events_dispatch
from notifications import selectors, services, tasks
from notifications.models import Delivery, Letter, Notice, PrintBatch
from notifications.services import notices_for_event
from tar_portal.errors import DomainError
from tests.notifications.backends import BrokenEmailBackend
from tests.notifications.conftest import ESI_SHORT_CARE, letter_for, letter_pdf
from tests.notifications.pdf import page_count

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _portal_url(settings):
    settings.PORTAL_BASE_URL = "https://tar.example.org"


def test_provider_notice_is_emailed_as_a_link_and_sent_on_time(submit, deny, world):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    notice = Notice.objects.get(tar_id=tar_id, audience="provider")
    assert notice.status == "sent"
    assert notice.sent_on_time is True and notice.sent_at <= notice.due_at
    assert notice.delivered_via == "email" and notice.attempts == 1
    letter = letter_for(tar_id, "denial", "provider")
    [message] = mail.outbox
    assert message.to == [world.redwood.email]
    tar = Tar.objects.get(pk=tar_id)
    assert tar.number in message.subject
    text = message.subject + message.body
    # No PHI in mail (issue 12): no attachment, no name, no CIN; a link behind login.
    assert message.attachments == []
    assert tar.member.last_name not in text and tar.member.first_name not in text
    assert tar.member.cin not in text
    assert f"https://tar.example.org/provider/tars/{tar_id}/" in message.body
    assert letter.kind not in text.lower()  # not even the kind of decision
    assert Delivery.objects.filter(letter=letter, channel="email").count() == 1
    # The member's copy waits for the mail house.
    assert Notice.objects.get(tar_id=tar_id, audience="member").status == "owed"


def test_both_offices_get_the_provider_notice_when_they_differ(submit, deny, world):
    tar_id = submit(answers=ESI_SHORT_CARE)
    Tar.objects.filter(pk=tar_id).update(servicing_organization=world.coastal)
    deny(tar_id)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [world.redwood.email, world.coastal.email]
    )


def test_a_task_run_twice_leaves_one_letter(submit, deny):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    assert Letter.objects.filter(tar_id=tar_id).count() == 2
    for notice in Notice.objects.filter(tar_id=tar_id):
        tasks.notice_deliver.delay(notice_id=notice.pk)
        tasks.notice_deliver.apply(kwargs={"notice_id": notice.pk})
        assert services.letter_generate(notice_id=notice.pk).version == 1
    assert Letter.objects.filter(tar_id=tar_id).count() == 2
    assert len(mail.outbox) == 1  # the provider was e-mailed once


def test_notices_for_event_twice_leaves_one_notice_each(submit, deny, run_hooks):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    event = DomainEvent.objects.get(tar_id=tar_id, kind=EventKind.TAR_DECIDED)
    again = run_hooks(notices_for_event, event)
    assert again == []
    assert Notice.objects.filter(tar_id=tar_id).count() == 2
    assert Letter.objects.filter(tar_id=tar_id).count() == 2


@pytest.fixture
def worker_like_retries():
    """Eager tasks re-run on retry, as a worker would, only when they do not propagate
    errors to the caller (the test settings make them propagate)."""
    from tar_portal.celery import app

    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = before


def test_failed_send_is_retried_then_shown_to_staff_as_failed(
    submit, deny, world, settings, run_hooks, worker_like_retries
):
    settings.EMAIL_BACKEND = "tests.notifications.backends.BrokenEmailBackend"
    BrokenEmailBackend.calls = 0
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)  # the decision itself stands
    assert Tar.objects.get(pk=tar_id).status == "denied"
    notice = Notice.objects.get(tar_id=tar_id, audience="provider")
    assert BrokenEmailBackend.calls == 4  # the first try and 3 retries
    assert notice.attempts == 4
    assert notice.status == "failed" and notice.failed_at is not None
    assert "SMTP relay down" in notice.last_error
    assert notice.sent_at is None
    assert list(selectors.notices_failed()) == [notice]
    # The letter itself was made: it is in the office's portal inbox.
    assert letter_for(tar_id, "denial", "provider").notice_id == notice.pk

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run_hooks(services.notice_retry, notice_id=notice.pk, user=world.users["manager"])
    notice.refresh_from_db()
    assert notice.status == "sent" and notice.last_error == ""
    assert len(mail.outbox) == 1
    assert list(selectors.notices_failed()) == []


def test_only_failed_notices_can_be_retried(submit, deny, world):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    notice = Notice.objects.get(tar_id=tar_id, audience="provider")
    with pytest.raises(DomainError) as error:
        services.notice_retry(notice_id=notice.pk, user=world.users["manager"])
    assert error.value.code == "invalid_transition"


def test_letters_are_immutable(submit, deny):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    letter = letter_for(tar_id, "denial", "member")
    letter.language = "es"
    with pytest.raises(RuntimeError):
        letter.save()
    with pytest.raises(RuntimeError):
        letter.delete()


def test_a_correction_is_a_new_version_and_the_old_one_stays(submit, deny, world, run_hooks):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    original = letter_for(tar_id, "denial", "provider")
    original_pdf = letter_pdf(original)
    corrected = run_hooks(
        services.letter_reissue,
        letter_id=original.pk,
        user=world.users["manager"],
        reason="The office address was out of date.",
    )
    assert (corrected.version, corrected.supersedes_id) == (2, original.pk)
    assert corrected.created_by == world.users["manager"]
    original.refresh_from_db()
    assert letter_pdf(original) == original_pdf and original.version == 1
    assert b"%PDF" in letter_pdf(corrected)[:8]
    from tests.notifications.pdf import has

    assert not has(letter_pdf(corrected), "corrected letter (version 2)", "address was out of date")
    assert len(mail.outbox) == 2  # the corrected provider letter is e-mailed too
    with pytest.raises(DomainError) as stale:
        services.letter_reissue(letter_id=original.pk, user=world.users["manager"], reason="x")
    assert stale.value.code == "invalid_transition"
    with pytest.raises(DomainError) as forbidden:
        services.letter_reissue(letter_id=corrected.pk, user=world.users["provider"], reason="x")
    assert forbidden.value.code == "permission_denied"


def test_print_batch_merges_member_letters_and_mailing_marks_them_sent(submit, deny, world):
    ids = [submit(answers=ESI_SHORT_CARE) for _ in range(2)]
    for tar_id in ids:
        deny(tar_id)
    batch = services.print_batch_build()
    assert batch is not None and batch.letter_count == 2
    with batch.file.open("rb") as handle:
        merged = PdfReader(io.BytesIO(handle.read()))
    letters = [letter_for(tar_id, "denial", "member") for tar_id in ids]
    padded = sum(n + n % 2 for n in (page_count(letter_pdf(x)) for x in letters))
    assert len(merged.pages) == batch.page_count == padded  # each letter starts a sheet
    assert [item.letter_id for item in batch.items.all()] == [x.pk for x in letters]
    assert services.print_batch_build() is None  # nothing left to batch

    with pytest.raises(DomainError):
        services.print_batch_mark_mailed(batch_id=batch.pk, user=world.users["provider"])
    mailed = services.print_batch_mark_mailed(batch_id=batch.pk, user=world.users["coordinator"])
    assert mailed.status == "mailed" and mailed.mailed_by == world.users["coordinator"]
    for tar_id in ids:
        notice = Notice.objects.get(tar_id=tar_id, audience="member")
        assert notice.status == "sent" and notice.delivered_via == "mail"
        assert notice.sent_at == mailed.mailed_at and notice.sent_on_time is True
    assert Delivery.objects.filter(channel="mail", batch=batch).count() == 2
    again = services.print_batch_mark_mailed(batch_id=batch.pk, user=world.users["manager"])
    assert again.mailed_at == mailed.mailed_at


def test_mailing_after_the_due_time_is_recorded_as_late(submit, deny, world):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    notice = Notice.objects.get(tar_id=tar_id, audience="member")
    batch = services.print_batch_build()
    services.print_batch_mark_mailed(
        batch_id=batch.pk,
        user=world.users["manager"],
        mailed_at=notice.due_at + timedelta(hours=1),
    )
    notice.refresh_from_db()
    assert notice.status == "sent" and notice.sent_on_time is False


def test_a_superseded_member_letter_is_not_printed(submit, deny, world, run_hooks):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    original = letter_for(tar_id, "denial", "member")
    corrected = run_hooks(
        services.letter_reissue,
        letter_id=original.pk,
        user=world.users["memberservices"],
        reason="The member moved; new address.",
    )
    batch = services.print_batch_build()
    assert [item.letter_id for item in batch.items.all()] == [corrected.pk]
    assert PrintBatch.objects.count() == 1


def test_notices_whose_task_was_lost_are_queued_again(submit, world, run_hooks):
    from authorizations import services as tar_services

    tar_id = submit()
    tar_services.tar_decide(tar_id=tar_id, user=world.users["nurse"], outcome="approved")
    # The decision's event was consumed, but its delivery tasks were lost (broker down).
    events_dispatch()
    assert Letter.objects.filter(tar_id=tar_id).count() == 0
    assert run_hooks(services.notices_requeue_stalled) == []  # too recent to call stalled
    Notice.objects.filter(tar_id=tar_id).update(created_at=F("created_at") - timedelta(minutes=15))
    requeued = run_hooks(services.notices_requeue_stalled)
    assert len(requeued) == 2
    assert Letter.objects.filter(tar_id=tar_id).count() == 2
    assert Notice.objects.get(tar_id=tar_id, audience="provider").status == "sent"
    assert run_hooks(services.notices_requeue_stalled) == []


def test_print_batch_command_and_task(submit, deny):
    from io import StringIO

    from django.core.management import call_command

    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    out = StringIO()
    call_command("print_batch_build", stdout=out)
    assert "1 letters" in out.getvalue()
    assert tasks.print_batch_build.delay().get() == []

"""The review and decide pages built around the decision (issue 15): the actions beside the
case offer only what can succeed, record reads are folded away and counted, documents preview
inline under the portal's CSP, the physician's form comes first with the failed criteria
cited, and a finished case sends the nurse back to the queue."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from authorizations import services
from authorizations.models import HistoryAction, HistoryEntry, Tar
from tests import factories
from tests.portal.browser import TINY_PDF

pytestmark = pytest.mark.django_db


def _attach(world, tar_id: int, name: str, data: bytes, kind: str):
    return services.attachment_add(
        tar_id=tar_id,
        user=world.users["provider"],
        upload=SimpleUploadedFile(name, data, kind),
        description="",
    )


def test_actions_sit_beside_the_case_and_offer_only_what_can_succeed(client_for, api, submit):
    tar_id = submit()
    client = client_for("nurse")
    html = client.get(f"/review/tars/{tar_id}/").content.decode()
    actions = html.split('class="case-actions"')[1].split('class="case-main"')[0]
    assert "Claim this request" in actions
    api("nurse").post(f"/api/v1/tars/{tar_id}/claim")
    actions = (
        client.get(f"/review/tars/{tar_id}/").content.decode().split('class="case-actions"')[1]
    ).split('class="case-main"')[0]
    assert "data-approve" in actions and "Refer to a physician" in actions
    failing = submit(answers={**factories.ESI_MEETS, "radicular_findings": False})
    api("nurse").post(f"/api/v1/tars/{failing}/claim")
    actions = (
        client.get(f"/review/tars/{failing}/").content.decode().split('class="case-actions"')[1]
    ).split('class="case-main"')[0]
    assert "data-approve" not in actions and "Refer to a physician" in actions
    api("nurse").post(f"/api/v1/tars/{failing}/refer")
    actions = (
        client.get(f"/review/tars/{failing}/").content.decode().split('class="case-actions"')[1]
    ).split('class="case-main"')[0]
    assert "refer-note" not in actions and "data-approve" not in actions


def test_record_reads_are_folded_away_and_counted(client_for, submit):
    tar_id = submit()
    client = client_for("nurse")
    for _ in range(3):
        client.get(f"/review/tars/{tar_id}/")
    html = client.get(f"/review/tars/{tar_id}/").content.decode()
    reads = HistoryEntry.objects.filter(tar_id=tar_id, action=HistoryAction.CLINICAL_READ).count()
    assert reads == 4
    assert f"{reads} record reads hidden" in html
    main = html.split('class="history-reads"')[0].split('id="history-title"')[1]
    assert "Clinical record read by plan staff" not in main


def test_a_pdf_previews_inline_for_staff_only_with_framing_limited_to_the_portal(
    client_for, world, submit
):
    tar_id = submit()
    attachment = _attach(world, tar_id, "mri.pdf", TINY_PDF, "application/pdf")
    client = client_for("nurse")
    page = client.get(f"/review/tars/{tar_id}/").content.decode()
    url = f"/review/attachments/{attachment.pk}/preview"
    assert f'<iframe src="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert HistoryEntry.objects.filter(tar_id=tar_id, action=HistoryAction.ATTACHMENT_READ).exists()
    # Every other page keeps the strict policy.
    assert (
        "frame-ancestors 'none'" in client.get(f"/review/tars/{tar_id}/")["Content-Security-Policy"]
    )
    for persona in ("provider", "member", "coordinator", "memberservices"):
        assert client_for(persona).get(url).status_code in (403, 404), persona
    assert client_for("provider2").get(url).status_code in (403, 404)
    assert client_for("nurse").get("/review/attachments/999999/preview").status_code == 404


def test_the_physician_decides_at_the_top_with_failed_criteria_cited(client_for, api, submit):
    tar_id = submit(answers={**factories.ESI_MEETS, "radicular_findings": False})
    api("nurse").post(f"/api/v1/tars/{tar_id}/refer", {"note": "No radicular signs."})
    html = client_for("physician").get(f"/physician/tars/{tar_id}/").content.decode()
    assert html.index('id="decide"') < html.index('id="member-title"')
    assert "No radicular signs." in html
    tar = Tar.objects.get(pk=tar_id)
    line = tar.lines.get()
    ref = f"{line.evaluation['criteria_set']}:{line.evaluation['version']}:"
    checked = [chunk for chunk in html.split("<input") if "checked" in chunk and ref in chunk]
    assert checked, "the not-met criterion is pre-cited"


def test_approving_sends_the_nurse_back_to_the_queue(client_for, api, submit):
    tar_id = submit()
    api("nurse").post(f"/api/v1/tars/{tar_id}/claim")
    response = client_for("nurse").post(f"/review/tars/{tar_id}/approve", {}, follow=True)
    number = Tar.objects.get(pk=tar_id).number
    assert response.redirect_chain[-1][0] == "/review/"
    assert f"{number}: The request was approved" in response.content.decode()


def test_the_pend_form_asks_only_the_case_sets_questions_preselecting_the_unknown(
    client_for, api, submit
):
    answers = dict(factories.ESI_MEETS)
    answers.pop("pain_score")
    tar_id = submit(answers=answers)
    api("nurse").post(f"/api/v1/tars/{tar_id}/claim")
    html = client_for("nurse").get(f"/review/tars/{tar_id}/").content.decode()
    boxes = [c for c in html.split("<input") if 'name="info-missing_keys"' in c]
    offered = {c.split('value="')[1].split('"')[0] for c in boxes}
    assert "pain_score" in offered and "radicular_findings" in offered
    assert "trial_relief_percent" not in offered and "mbb_relief_percents" not in offered
    assert [c for c in boxes if 'value="pain_score"' in c and "checked" in c]
    assert not [c for c in boxes if 'value="radicular_findings"' in c and "checked" in c]


def test_staff_see_clock_rules_in_words(client_for, submit):
    tar_id = submit()
    html = client_for("nurse").get(f"/review/tars/{tar_id}/").content.decode()
    rule = Tar.objects.get(pk=tar_id).decision_due_rule
    assert f"({rule})" not in html and rule not in html
    assert "business days" in html or "calendar days" in html

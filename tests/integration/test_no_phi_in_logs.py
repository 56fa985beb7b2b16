"""Logs stay PHI-free (issue 12; HIPAA 164.312(b)): a real gunicorn web server and a real
Celery worker serve a request's whole life — member lookup, submission, bad input, review,
denial, the letters and their e-mail — and then everything both printed is searched, case
by case, for the member's CIN, names and date of birth."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest

from accounts.tokens import token_issue
from notifications.models import Notice
from tests.integration.processes import free_port, start_web, start_worker, stop, wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

DENY = {
    "outcome": "denied",
    "reason_code": "medical_necessity",
    "rationale": "Conservative care has not been tried for long enough.",
    "criteria_refs": ["esi:2026.1:3"],
}


def _call(base: str, token: str, method: str, path: str, body: dict | None = None):
    request = urllib.request.Request(  # noqa: S310 - our own server on 127.0.0.1
        base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _phi_of(member) -> list[str]:
    dob = member.date_of_birth
    return [
        member.cin,
        member.first_name,
        member.last_name,
        dob.isoformat(),
        dob.strftime("%m/%d/%Y"),
        dob.strftime("%B %-d, %Y"),
        dob.strftime("%b %-d, %Y"),  # the portal's date format (portal_dates.when)
    ]


def test_a_requests_whole_life_leaves_no_phi_in_web_or_worker_output(
    world, tar_payload, worker_queue
):
    member = world.member
    # Names no log line could contain by chance.
    member.first_name, member.last_name = "Evangelina", "Quintanilla-Vuong"
    member.save(update_fields=["first_name", "last_name"])
    tokens = {
        persona: token_issue(user=world.users[persona])[0]
        for persona in ("provider", "nurse", "physician")
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    web = start_web(port, queue=worker_queue)
    worker = start_worker(worker_queue)
    outputs = []
    try:
        provider, nurse, physician = tokens["provider"], tokens["nurse"], tokens["physician"]
        dob = member.date_of_birth.isoformat()
        # Look-ups with the CIN in the path and the date of birth in the query, right and
        # wrong, upper and lower case; a path that does not exist.
        _call(base, provider, "GET", f"/members/{member.cin}/?date_of_birth={dob}")
        _call(base, provider, "GET", f"/members/{member.cin.lower()}/?date_of_birth=1901-01-01")
        _call(base, provider, "GET", f"/nowhere/{member.cin}/")
        # A bad submission naming the member, then a good one.
        status, _ = _call(base, provider, "POST", "/tars/", tar_payload(lines=[{"code": "x"}]))
        assert status == 400
        status, body = _call(base, provider, "POST", "/tars/", tar_payload())
        assert status == 201, body
        tar_id = body["id"]
        assert _call(base, nurse, "POST", f"/tars/{tar_id}/claim", {})[0] == 200
        assert _call(base, nurse, "POST", f"/tars/{tar_id}/refer", {"note": "MD review"})[0] == 200
        status, body = _call(base, physician, "POST", f"/tars/{tar_id}/decision", DENY)
        assert status == 200, body
        # The worker consumes the decision's event, makes both letters and e-mails the
        # provider's.
        wait_for(
            lambda: Notice.objects.filter(
                tar_id=tar_id, audience="provider", status="sent"
            ).exists(),
            timeout=120,
        )
        assert Notice.objects.filter(tar_id=tar_id).count() == 2
        # Staff read the request (an audited read, logged nowhere but the history).
        assert _call(base, nurse, "GET", f"/tars/{tar_id}/")[0] == 200
    finally:
        outputs.append(stop(web))
        outputs.append(stop(worker))
    printed = "\n".join(outputs)
    assert "Booting worker" in printed or "Listening at" in printed  # we did read the output
    assert "celery@" in printed or "ready" in printed.lower()
    # The request lines that named the member were logged, masked (so the search is real).
    assert "/nowhere/[CIN]/" in printed
    found = [item for item in _phi_of(member) if re.search(re.escape(item), printed, re.I)]
    assert found == [], f"PHI in the logs: {found}"

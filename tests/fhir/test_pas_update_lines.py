"""PASClaimUpdates that change service lines and partial cancels (issue 14): items flagged
`infoChanged` (changed / added), `infoCancelledFlag` or certification type 3 act on the TAR's
lines through the kernel (AMEND_LINES), the rest go on; every line cancelled withdraws it."""

from __future__ import annotations

import copy

import pytest

from authorizations import services
from authorizations.models import HistoryAction, Tar, TarStatus
from fhir.models import PasRequest
from fhir.responses import pas_response_bundle
from fhir.submit import EXT_INFO_CANCELLED, EXT_INFO_CHANGED
from tests.fhir import pas
from tests.fhir.pas import (
    CPT,
    ESI_MEETS,
    SUBMIT,
    UPDATE_EXAMPLE,
    adapt,
    assert_valid_response,
    claim_of,
    example,
    post,
    review_actions,
)

pytestmark = [pytest.mark.django_db, pytest.mark.clock()]
client_for = pas.client_for  # the fixture

HOMECARE = "Bundle-HomecareAuthorizationBundleExample.json"
TYPE_3 = {
    "url": "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-certificationType",
    "valueCodeableConcept": {
        "coding": [{"system": "https://codesystem.x12.org/005010/1322", "code": "3"}]
    },
}


def _item(template: dict, sequence: int, code: str, *, units: int = 1, flag: str = "") -> dict:
    item = copy.deepcopy(template)
    item["sequence"] = sequence
    item["productOrService"] = {"coding": [{"system": CPT, "code": code}]}
    item["quantity"] = {"value": units}
    item["extension"] = [e for e in item["extension"] if e["url"] != EXT_INFO_CHANGED]
    if flag in ("changed", "added"):
        item["extension"].append({"url": EXT_INFO_CHANGED, "valueCode": flag})
    elif flag == "cancelled":
        item["modifierExtension"] = [{"url": EXT_INFO_CANCELLED, "valueBoolean": True}]
    elif flag == "type3":
        item["extension"] = [
            e for e in item["extension"] if not e["url"].endswith("certificationType")
        ] + [copy.deepcopy(TYPE_3)]
    return item


def _submit_two_lines(client_for, world) -> Tar:
    bundle = adapt(example(HOMECARE), world, answers=ESI_MEETS)
    claim = claim_of(bundle)
    claim["item"].append(_item(claim["item"][0], 2, "64484"))
    body = post(client_for("provider"), SUBMIT, bundle).json()
    assert review_actions(body) == ["A4", "A4"], body
    tar = Tar.objects.get()
    assert [line.code for line in tar.lines.all()] == ["64483", "64484"]
    return tar


def _update(world, *items: tuple) -> dict:
    bundle = adapt(example(UPDATE_EXAMPLE), world)
    claim = claim_of(bundle)
    template = claim["item"][0]
    claim["item"] = [
        _item(template, sequence, code, units=units, flag=flag)
        for sequence, code, units, flag in items
    ]
    return bundle


def _actions_by_sequence(body: dict) -> dict[int, str]:
    return {
        item["itemSequence"]: code
        for item, code in zip(claim_of(body)["item"], review_actions(body), strict=True)
    }


def test_changed_and_added_items_change_the_lines(client_for, world):
    tar = _submit_two_lines(client_for, world)
    due = tar.decision_due_at
    update = _update(
        world, (1, "64483", 1, ""), (2, "64484", 3, "changed"), (3, "64490", 1, "added")
    )
    response = post(client_for("provider"), SUBMIT, update)
    assert response.status_code == 200
    body = response.json()
    assert_valid_response(body)
    assert _actions_by_sequence(body) == {1: "A4", 2: "A4", 3: "A4"}
    tar.refresh_from_db()
    assert tar.status == TarStatus.SUBMITTED
    assert tar.decision_due_at == due  # the clock is kept (PRODUCT §4)
    lines = {line.line_number: line for line in tar.lines.all()}
    assert (lines[2].code, lines[2].units) == ("64484", 3)
    assert lines[3].code == "64490" and lines[3].family == "facet_mbb"
    entry = tar.history.get(action=HistoryAction.LINES_AMENDED)
    assert entry.actor == world.users["provider"]
    assert [a["code"] for a in entry.detail["added"]] == ["64490"]
    items = {i["sequence"]: i for i in PasRequest.objects.get(tar=tar).items}
    assert items[3]["line_number"] == 3


def test_cancelling_one_item_withdraws_that_line_only(client_for, world):
    tar = _submit_two_lines(client_for, world)
    body = post(client_for("provider"), SUBMIT, _update(world, (2, "64484", 1, "cancelled"))).json()
    assert_valid_response(body)
    assert _actions_by_sequence(body) == {1: "A4", 2: "C"}
    tar.refresh_from_db()
    assert tar.status == TarStatus.SUBMITTED
    assert [line.code for line in tar.lines.all()] == ["64483"]
    entry = tar.history.get(action=HistoryAction.LINES_AMENDED)
    assert [c["code"] for c in entry.detail["cancelled"]] == ["64484"]
    # The rest goes on: decided later, the cancelled item stays C.
    services.tar_decide(tar_id=tar.pk, user=world.users["physician"], outcome=TarStatus.APPROVED)
    assert _actions_by_sequence(pas_response_bundle(Tar.objects.get(pk=tar.pk))) == {
        1: "A1",
        2: "C",
    }


def test_certification_type_3_on_an_item_is_a_partial_cancel(client_for, world):
    tar = _submit_two_lines(client_for, world)
    body = post(client_for("provider"), SUBMIT, _update(world, (1, "64483", 1, "type3"))).json()
    assert _actions_by_sequence(body) == {1: "C", 2: "A4"}
    tar.refresh_from_db()
    assert [line.code for line in tar.lines.all()] == ["64484"]


def test_cancelling_every_item_withdraws_the_request(client_for, world):
    tar = _submit_two_lines(client_for, world)
    update = _update(world, (1, "64483", 1, "cancelled"), (2, "64484", 1, "type3"))
    body = post(client_for("provider"), SUBMIT, update).json()
    assert_valid_response(body)
    assert set(review_actions(body)) == {"C"}
    tar.refresh_from_db()
    assert tar.status == TarStatus.WITHDRAWN
    assert tar.lines.count() == 2  # a withdrawal keeps the request as it was
    assert not tar.history.filter(action=HistoryAction.LINES_AMENDED).exists()


def test_a_bad_changed_item_is_an_error_answer_and_changes_nothing(client_for, world):
    tar = _submit_two_lines(client_for, world)
    update = _update(world, (2, "64484", 1, "changed"), (3, "64490", 1, "added"))
    claim_of(update)["item"][1]["productOrService"] = {"coding": [{"code": "not-a-code"}]}
    body = post(client_for("provider"), SUBMIT, update).json()
    assert claim_of(body)["outcome"] == "error"
    tar.refresh_from_db()
    assert tar.lines.count() == 2
    assert not tar.history.filter(action=HistoryAction.LINES_AMENDED).exists()


def test_a_decided_request_cannot_have_its_lines_changed(client_for, world):
    tar = _submit_two_lines(client_for, world)
    services.tar_decide(tar_id=tar.pk, user=world.users["physician"], outcome=TarStatus.APPROVED)
    body = post(client_for("provider"), SUBMIT, _update(world, (2, "64484", 4, "changed"))).json()
    assert claim_of(body)["outcome"] == "error"
    assert "before the decision" in str(body)
    assert Tar.objects.get(pk=tar.pk).lines.get(line_number=2).units == 1


def test_another_organization_cannot_change_the_lines(client_for, world):
    tar = _submit_two_lines(client_for, world)
    body = post(
        client_for("provider2"), SUBMIT, _update(world, (2, "64484", 1, "cancelled"))
    ).json()
    assert claim_of(body)["outcome"] == "error"
    assert Tar.objects.get(pk=tar.pk).lines.count() == 2

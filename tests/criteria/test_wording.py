"""Criteria texts for each reader (issue 15): every criterion of every shipped set has a
clinical staff wording beside the member wording, and `criterion_text` gives each reader
theirs."""

from __future__ import annotations

import pytest

from criteria import catalog
from criteria.engine import CriteriaError

ALL_CRITERIA = [
    (set_def["id"], set_def["version"], criterion)
    for set_def in catalog.SHIPPED_SETS
    for criterion in set_def["criteria"]
]


@pytest.mark.parametrize(
    ("set_id", "version", "criterion"),
    ALL_CRITERIA,
    ids=[f"{s}:{v}:{c['number']}" for s, v, c in ALL_CRITERIA],
)
def test_every_criterion_has_a_staff_wording_distinct_from_the_member_one(
    set_id, version, criterion
):
    ref = f"{set_id}:{version}:{criterion['number']}"
    staff = catalog.criterion_text(ref, "staff")
    assert staff.strip()
    assert staff != criterion["text"] and staff != criterion["text_es"]
    # Clinical, third person: never the member's "you".
    assert " you" not in f" {staff.lower()}" and "your " not in staff.lower()
    assert catalog.criterion_text(ref, "provider") == staff
    assert catalog.criterion_text(ref, "member") == criterion["text"]
    assert catalog.criterion_text(ref, "member", "es") == criterion["text_es"]


def test_a_revised_criterion_has_its_own_staff_wording():
    old = catalog.criterion_text("facet_rfa:2026.1:4", "staff")
    new = catalog.criterion_text("facet_rfa:2026.2:4", "staff")
    assert old != new and "however long ago" in new
    assert catalog.criterion_text("facet_rfa.4", "staff") == new  # newest shipped version
    assert catalog.criterion_text("facet_rfa.4", "staff", version="2026.1") == old


def test_staff_wording_states_the_thresholds():
    assert catalog.criterion_text("esi.3", "staff").startswith("Conservative care ≥ 4 weeks")
    assert "LCD L39240" in catalog.criterion_text("esi.1", "staff")
    assert "NCD 160.7" in catalog.criterion_text("scs_trial.1", "staff")


def test_staff_and_provider_wording_stays_english_for_a_spanish_reader():
    assert catalog.criterion_text("esi.2", "staff", "es") == "Pain ≥ 4 weeks."


@pytest.mark.parametrize(
    ("key", "reader"),
    [
        ("esi.99", "staff"),
        ("nope.1", "staff"),
        ("esi:1999.1:1", "member"),
        ("esi", "staff"),
        ("esi.1", "nurse"),
    ],
)
def test_an_unknown_criterion_or_reader_is_a_criteria_error(key, reader):
    with pytest.raises(CriteriaError):
        catalog.criterion_text(key, reader)


def test_set_titles_in_words():
    assert catalog.criteria_set_title("facet_mbb") == "Facet joint medial branch block"
    assert catalog.criteria_set_title("not_shipped") == "not shipped"
    assert catalog.criteria_set_title(None) == ""

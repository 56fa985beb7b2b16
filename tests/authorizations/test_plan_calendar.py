"""The plan's calendar is the plan's data (issue 11 row 17; PRODUCT §4): holiday rows seeded
once from `holidays` (California's paid state holidays only), kept by the UM manager in the
admin with history, cached per process under a version every edit bumps."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import holidays as holidays_lib
import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from authorizations import calendar as plan_calendar_module
from authorizations import clocks, services
from authorizations.calendar import plan_calendar
from authorizations.models import PlanHoliday, PlanHolidayChange, Tar
from tests.conftest import BUSINESS_MORNING

pytestmark = pytest.mark.django_db

PT = ZoneInfo("America/Los_Angeles")


def pt(*args):
    return datetime(*args, tzinfo=PT)


def _manager_admin(world) -> Client:
    manager = world.users["manager"]
    manager.is_staff = manager.is_superuser = True
    manager.save(update_fields=["is_staff", "is_superuser"])
    client = Client()
    client.force_login(manager)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=manager).persistent_id
    session.save()
    return client


def test_the_plan_observes_californias_paid_state_holidays_not_observances(world):
    """Gov. Code 19853 / CalHR: 11 paid holidays; Sunday → Monday; a Saturday one is not moved
    (holiday credit). Not Susan B. Anthony Day (02-15, an observance), not Diwali (10-29),
    not Juneteenth (not a state paid holiday); Independence Day 2027 (Sunday) on Mon 07-05."""
    days_2027 = {d for d in plan_calendar().holidays if d.year == 2027}
    assert days_2027 == {
        date(2027, 1, 1),
        date(2027, 1, 18),
        date(2027, 2, 15),
        date(2027, 3, 31),
        date(2027, 5, 31),
        date(2027, 7, 5),
        date(2027, 9, 6),
        date(2027, 11, 11),
        date(2027, 11, 25),
        date(2027, 11, 26),
    }
    # Christmas 2027 is a Saturday and New Year's Day 2028 too: no Friday closure.
    assert plan_calendar().is_business_day(date(2027, 12, 24))
    assert plan_calendar().is_business_day(date(2027, 12, 31))


@pytest.mark.clock(pt(2027, 10, 28, 10))
def test_diwali_2027_is_a_working_friday_for_the_member_notice(world, submit):
    """Today's code took the library's list, Diwali (Fri 2027-10-29) included: a decision on
    Thu 10-28 owed the member letter on Tue 11-02 instead of Mon 11-01."""
    tar_id = submit()
    tar = services.tar_decide(
        tar_id=tar_id,
        user=world.users["physician"],
        outcome="denied",
        reason_code="medical_necessity",
        rationale="Conservative care has not been tried for long enough.",
        criteria_refs=["esi:2026.1:1"],
    )
    assert tar.member_notice_due_at == pt(2027, 11, 1, 23, 59, 59)
    assert Tar.objects.get(pk=tar_id).member_notice_rule == "member_notice_2_business_days"


def test_a_library_upgrade_does_not_move_a_deadline(world, monkeypatch):
    before = plan_calendar()
    decided = pt(2027, 4, 14, 10)
    due = clocks.mailing_deadline(decided_at=decided, calendar=before).due_at

    def upgraded(*args, **kwargs):
        # A newer release that adds a holiday on Thu 2027-04-15.
        result = holidays_lib.HolidayBase()
        result[date(2027, 4, 15)] = "A new observance"
        return result

    monkeypatch.setattr(holidays_lib, "country_holidays", upgraded)
    monkeypatch.setattr(plan_calendar_module, "_cache", None)
    after = plan_calendar()
    assert date(2027, 4, 15) not in after.holidays
    assert clocks.mailing_deadline(decided_at=decided, calendar=after).due_at == due


@pytest.mark.clock(BUSINESS_MORNING)
def test_a_holiday_the_manager_adds_in_the_admin_moves_the_next_deadline_and_is_recorded(world):
    client = _manager_admin(world)
    decided = pt(2027, 4, 14, 10)  # Wed: 2 business days → Fri 04-16
    assert clocks.mailing_deadline(decided_at=decided, calendar=plan_calendar()).due_at == pt(
        2027, 4, 16, 23, 59, 59
    )
    response = client.post(
        "/admin/authorizations/planholiday/add/",
        {"date": "2027-04-16", "name": "Plan closure", "source": "Board resolution 2027-03"},
    )
    assert response.status_code == 302, response.content
    # The next computation, in this process, sees it (the cache was invalidated).
    assert clocks.mailing_deadline(decided_at=decided, calendar=plan_calendar()).due_at == pt(
        2027, 4, 19, 23, 59, 59
    )
    added = PlanHolidayChange.objects.get(holiday_date=date(2027, 4, 16))
    assert added.action == "added"
    assert added.changed_by == world.users["manager"]
    assert added.after == {
        "date": "2027-04-16",
        "name": "Plan closure",
        "source": "Board resolution 2027-03",
    }
    holiday = PlanHoliday.objects.get(date=date(2027, 4, 16))
    response = client.post(
        f"/admin/authorizations/planholiday/{holiday.pk}/change/",
        {"date": "2027-04-16", "name": "Plan closure (IT move)", "source": "Board resolution"},
    )
    assert response.status_code == 302
    changed = PlanHolidayChange.objects.filter(action="changed").get()
    assert changed.before["name"] == "Plan closure"
    assert changed.after["name"] == "Plan closure (IT move)"
    response = client.post(
        f"/admin/authorizations/planholiday/{holiday.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert PlanHolidayChange.objects.filter(action="removed").get().before["date"] == "2027-04-16"
    assert clocks.mailing_deadline(decided_at=decided, calendar=plan_calendar()).due_at == pt(
        2027, 4, 16, 23, 59, 59
    )
    # The history is read-only in the admin.
    change = PlanHolidayChange.objects.first()
    page = client.get(f"/admin/authorizations/planholidaychange/{change.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content


def test_a_calendar_with_no_holidays_is_an_error_not_a_silent_working_year(world):
    PlanHoliday.objects.all().delete()
    with pytest.raises(clocks.ClockError) as caught:
        plan_calendar()
    assert caught.value.code == "outside_calendar"

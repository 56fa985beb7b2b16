"""Golden table of the notice clocks (issue 11): urgent and routine requests decided early,
late in their window, and after a lawful extension, around Thanksgiving 2026, Christmas 2026,
New Year 2027, Martin Luther King Jr. Day 2027 and Presidents' Day 2027.

Every expected instant is worked out by hand below from PRODUCT §4:
- member notice = earliest of (2 business days after the decision's Pacific date: 002 footnote,
  H&S 1367.01) and the federal limit (urgent: receipt + 72 h; routine: end of the 7th calendar
  day after receipt; 42 CFR 438.210(d), 438.404(c)(6)), the federal limit moved to the
  extended decision deadline after a lawful extension; a tie names the 2-business-day rule.
- provider notice: urgent, receipt + 72 h; urgent after an extension, the earliest of
  decision + 24 h and the extended deadline; routine, decision + 24 h (002 table).
The plan's holidays are the seeded rows (California paid state holidays): Thu 2026-11-26,
Fri 2026-11-27, Fri 2026-12-25, Fri 2027-01-01, Mon 2027-01-18, Mon 2027-02-15; Christmas Eve
and New Year's Eve are business days. All dates are in Pacific Standard Time (UTC-8), so
23:59:59 Pacific is 07:59:59 UTC the next day.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from authorizations import clocks
from authorizations.calendar import plan_calendar
from authorizations.clocks import Rule

pytestmark = pytest.mark.django_db

PT = ZoneInfo("America/Los_Angeles")


def pt(y, m, d, hh=0, mm=0, ss=0):
    return datetime(y, m, d, hh, mm, ss, tzinfo=PT)


def eod(y, m, d):
    return pt(y, m, d, 23, 59, 59)


M2BD = Rule.MEMBER_NOTICE_2_BUSINESS_DAYS
M72 = Rule.MEMBER_NOTICE_URGENT_72_HOURS
M7CD = Rule.MEMBER_NOTICE_ROUTINE_7_CALENDAR_DAYS
MEXT = Rule.MEMBER_NOTICE_EXTENDED_DEADLINE
P72 = Rule.PROVIDER_NOTICE_WITH_DECISION_72_HOURS
P24 = Rule.PROVIDER_NOTICE_24_HOURS_AFTER_DECISION
PEXT = Rule.PROVIDER_NOTICE_EXTENDED_DEADLINE

# (urgency, received, extended due or None, decided, member due, member rule, provider due,
#  provider rule)
GOLDEN = [
    # ---- Thanksgiving 2026, urgent: received Wed 11-25 09:00; receipt + 72 h = Sat 11-28 09:00.
    # early, decided Wed 11-25 15:00: 2 business days after Wed skip Thu/Fri (holidays) and the
    # weekend: Mon 11-30 (1), Tue 12-01 (2) → Tue 23:59:59; 72 h (Sat 09:00) is earlier.
    pytest.param(
        "urgent",
        pt(2026, 11, 25, 9),
        None,
        pt(2026, 11, 25, 15),
        pt(2026, 11, 28, 9),
        M72,
        pt(2026, 11, 28, 9),
        P72,
        id="thanksgiving-urgent-early",
    ),
    # late, decided Sat 11-28 07:00 (hour 70): 2 bd after Sat → Tue 12-01; 72 h binds, Sat 09:00.
    pytest.param(
        "urgent",
        pt(2026, 11, 25, 9),
        None,
        pt(2026, 11, 28, 7),
        pt(2026, 11, 28, 9),
        M72,
        pt(2026, 11, 28, 9),
        P72,
        id="thanksgiving-urgent-late",
    ),
    # extended (Thu 11-26) to Sat 12-05 09:00; decided Wed 12-02 10:00: 2 bd → Thu 12-03 (1),
    # Fri 12-04 (2) → Fri 23:59:59, before the extended deadline; provider: decision + 24 h =
    # Thu 12-03 10:00, before the extended deadline.
    pytest.param(
        "urgent",
        pt(2026, 11, 25, 9),
        pt(2026, 12, 5, 9),
        pt(2026, 12, 2, 10),
        eod(2026, 12, 4),
        M2BD,
        pt(2026, 12, 3, 10),
        P24,
        id="thanksgiving-urgent-extended",
    ),
    # ---- Thanksgiving 2026, routine: received Mon 11-23 10:00; 7 calendar days → Mon 11-30.
    # early, decided Tue 11-24 10:00: 2 bd → Wed 11-25 (1), Mon 11-30 (2) → Mon 23:59:59, a tie
    # with the 7-day limit (the 2-business-day rule is named); provider Wed 11-25 10:00.
    pytest.param(
        "routine",
        pt(2026, 11, 23, 10),
        None,
        pt(2026, 11, 24, 10),
        eod(2026, 11, 30),
        M2BD,
        pt(2026, 11, 25, 10),
        P24,
        id="thanksgiving-routine-early",
    ),
    # late, decided Wed 11-25 16:00: 2 bd → Mon 11-30 (1), Tue 12-01 (2); the 7-day limit,
    # Mon 11-30 23:59:59, binds. Provider Thu 11-26 16:00 (a holiday: hours are hours).
    pytest.param(
        "routine",
        pt(2026, 11, 23, 10),
        None,
        pt(2026, 11, 25, 16),
        eod(2026, 11, 30),
        M7CD,
        pt(2026, 11, 26, 16),
        P24,
        id="thanksgiving-routine-late",
    ),
    # extended (Wed 11-25) to Fri 12-11 23:59:59 (21-day cap Mon 12-14); decided Thu 12-10
    # 10:00: 2 bd → Fri 12-11 (1), Mon 12-14 (2); the extended deadline Fri 12-11 binds.
    pytest.param(
        "routine",
        pt(2026, 11, 23, 10),
        eod(2026, 12, 11),
        pt(2026, 12, 10, 10),
        eod(2026, 12, 11),
        MEXT,
        pt(2026, 12, 11, 10),
        P24,
        id="thanksgiving-routine-extended",
    ),
    # ---- Christmas 2026, urgent: received Wed 12-23 14:00; + 72 h = Sat 12-26 14:00.
    # early, decided Wed 12-23 16:00: 2 bd → Thu 12-24 (1), Mon 12-28 (2); 72 h binds.
    pytest.param(
        "urgent",
        pt(2026, 12, 23, 14),
        None,
        pt(2026, 12, 23, 16),
        pt(2026, 12, 26, 14),
        M72,
        pt(2026, 12, 26, 14),
        P72,
        id="christmas-urgent-early",
    ),
    # late, decided Sat 12-26 12:00 (hour 70): 2 bd → Mon 12-28, Tue 12-29; 72 h binds.
    pytest.param(
        "urgent",
        pt(2026, 12, 23, 14),
        None,
        pt(2026, 12, 26, 12),
        pt(2026, 12, 26, 14),
        M72,
        pt(2026, 12, 26, 14),
        P72,
        id="christmas-urgent-late",
    ),
    # extended (Thu 12-24) to Tue 2027-01-05 14:00; decided Mon 01-04 09:00: 2 bd → Tue 01-05,
    # Wed 01-06; the extended deadline Tue 14:00 binds the member; the provider's decision
    # + 24 h (Tue 09:00) is earlier than it.
    pytest.param(
        "urgent",
        pt(2026, 12, 23, 14),
        pt(2027, 1, 5, 14),
        pt(2027, 1, 4, 9),
        pt(2027, 1, 5, 14),
        MEXT,
        pt(2027, 1, 5, 9),
        P24,
        id="christmas-urgent-extended",
    ),
    # ---- Christmas 2026, routine: received Mon 12-21 09:00; 7 calendar days → Mon 12-28.
    # early, decided Mon 12-21 15:00: 2 bd → Tue 12-22, Wed 12-23 → Wed 23:59:59 binds.
    pytest.param(
        "routine",
        pt(2026, 12, 21, 9),
        None,
        pt(2026, 12, 21, 15),
        eod(2026, 12, 23),
        M2BD,
        pt(2026, 12, 22, 15),
        P24,
        id="christmas-routine-early",
    ),
    # late, decided Thu 12-24 11:00: 2 bd skip Fri 12-25 → Mon 12-28 (1), Tue 12-29 (2); the
    # 7-day limit Mon 12-28 binds. Provider Fri 12-25 11:00.
    pytest.param(
        "routine",
        pt(2026, 12, 21, 9),
        None,
        pt(2026, 12, 24, 11),
        eod(2026, 12, 28),
        M7CD,
        pt(2026, 12, 25, 11),
        P24,
        id="christmas-routine-late",
    ),
    # extended (Wed 12-23) to Mon 2027-01-04 23:59:59; decided Thu 12-31 14:00: 2 bd skip
    # Fri 01-01 → Mon 01-04 (1), Tue 01-05 (2); the extended deadline Mon 01-04 binds.
    pytest.param(
        "routine",
        pt(2026, 12, 21, 9),
        eod(2027, 1, 4),
        pt(2026, 12, 31, 14),
        eod(2027, 1, 4),
        MEXT,
        pt(2027, 1, 1, 14),
        P24,
        id="christmas-routine-extended",
    ),
    # ---- New Year 2027, urgent: received Wed 12-30 20:00 (evening: urgent clocks run from the
    # true receipt); + 72 h = Sat 2027-01-02 20:00.
    # early, decided Thu 12-31 10:00: 2 bd skip Fri 01-01 → Mon 01-04, Tue 01-05; 72 h binds.
    pytest.param(
        "urgent",
        pt(2026, 12, 30, 20),
        None,
        pt(2026, 12, 31, 10),
        pt(2027, 1, 2, 20),
        M72,
        pt(2027, 1, 2, 20),
        P72,
        id="new-year-urgent-early",
    ),
    # late, decided Sat 01-02 18:00 (hour 70): 2 bd → Mon 01-04, Tue 01-05; 72 h binds.
    pytest.param(
        "urgent",
        pt(2026, 12, 30, 20),
        None,
        pt(2027, 1, 2, 18),
        pt(2027, 1, 2, 20),
        M72,
        pt(2027, 1, 2, 20),
        P72,
        id="new-year-urgent-late",
    ),
    # extended (Thu 12-31) to Fri 01-08 17:00; decided Thu 01-07 16:00: 2 bd → Fri 01-08,
    # Mon 01-11; the extended deadline Fri 17:00 binds; provider decision + 24 h = Fri 16:00.
    pytest.param(
        "urgent",
        pt(2026, 12, 30, 20),
        pt(2027, 1, 8, 17),
        pt(2027, 1, 7, 16),
        pt(2027, 1, 8, 17),
        MEXT,
        pt(2027, 1, 8, 16),
        P24,
        id="new-year-urgent-extended",
    ),
    # ---- New Year 2027, routine: received Tue 12-29 13:00; 7 calendar days → Tue 2027-01-05.
    # early, decided Tue 12-29 16:00: 2 bd → Wed 12-30, Thu 12-31 (a business day) → Thu binds.
    pytest.param(
        "routine",
        pt(2026, 12, 29, 13),
        None,
        pt(2026, 12, 29, 16),
        eod(2026, 12, 31),
        M2BD,
        pt(2026, 12, 30, 16),
        P24,
        id="new-year-routine-early",
    ),
    # late, decided Mon 01-04 09:00: 2 bd → Tue 01-05, Wed 01-06; the 7-day limit Tue binds.
    pytest.param(
        "routine",
        pt(2026, 12, 29, 13),
        None,
        pt(2027, 1, 4, 9),
        eod(2027, 1, 5),
        M7CD,
        pt(2027, 1, 5, 9),
        P24,
        id="new-year-routine-late",
    ),
    # extended (Thu 12-31) to Fri 01-15 23:59:59; decided Thu 01-14 12:00: 2 bd → Fri 01-15 (1),
    # skip MLK Mon 01-18, Tue 01-19 (2); the extended deadline Fri 01-15 binds.
    pytest.param(
        "routine",
        pt(2026, 12, 29, 13),
        eod(2027, 1, 15),
        pt(2027, 1, 14, 12),
        eod(2027, 1, 15),
        MEXT,
        pt(2027, 1, 15, 12),
        P24,
        id="new-year-routine-extended",
    ),
    # ---- MLK Day 2027, urgent: received Fri 01-15 11:00; + 72 h = Mon 01-18 11:00.
    # early, decided Fri 01-15 15:00: 2 bd skip Mon 01-18 → Tue 01-19, Wed 01-20; 72 h binds.
    pytest.param(
        "urgent",
        pt(2027, 1, 15, 11),
        None,
        pt(2027, 1, 15, 15),
        pt(2027, 1, 18, 11),
        M72,
        pt(2027, 1, 18, 11),
        P72,
        id="mlk-urgent-early",
    ),
    # late, decided Mon 01-18 09:00 (hour 70, on the holiday): 2 bd → Tue, Wed; 72 h binds.
    pytest.param(
        "urgent",
        pt(2027, 1, 15, 11),
        None,
        pt(2027, 1, 18, 9),
        pt(2027, 1, 18, 11),
        M72,
        pt(2027, 1, 18, 11),
        P72,
        id="mlk-urgent-late",
    ),
    # extended (Sat 01-16) to Fri 01-22 11:00; decided Thu 01-21 15:00: 2 bd → Fri 01-22,
    # Mon 01-25; the extended deadline Fri 11:00 binds both notices (provider: decision + 24 h
    # is Fri 15:00, later than it).
    pytest.param(
        "urgent",
        pt(2027, 1, 15, 11),
        pt(2027, 1, 22, 11),
        pt(2027, 1, 21, 15),
        pt(2027, 1, 22, 11),
        MEXT,
        pt(2027, 1, 22, 11),
        PEXT,
        id="mlk-urgent-extended",
    ),
    # ---- MLK Day 2027, routine: received Thu 01-14 10:00; 7 calendar days → Thu 01-21.
    # early, decided Fri 01-15 10:00: 2 bd skip Mon 01-18 → Tue 01-19, Wed 01-20 → Wed binds.
    pytest.param(
        "routine",
        pt(2027, 1, 14, 10),
        None,
        pt(2027, 1, 15, 10),
        eod(2027, 1, 20),
        M2BD,
        pt(2027, 1, 16, 10),
        P24,
        id="mlk-routine-early",
    ),
    # late, decided Wed 01-20 09:00: 2 bd → Thu 01-21, Fri 01-22; the 7-day limit Thu binds.
    pytest.param(
        "routine",
        pt(2027, 1, 14, 10),
        None,
        pt(2027, 1, 20, 9),
        eod(2027, 1, 21),
        M7CD,
        pt(2027, 1, 21, 9),
        P24,
        id="mlk-routine-late",
    ),
    # extended (Tue 01-19) to Wed 02-03 23:59:59; decided Fri 01-29 10:00: 2 bd → Mon 02-01,
    # Tue 02-02 → Tue binds (before the extended deadline).
    pytest.param(
        "routine",
        pt(2027, 1, 14, 10),
        eod(2027, 2, 3),
        pt(2027, 1, 29, 10),
        eod(2027, 2, 2),
        M2BD,
        pt(2027, 1, 30, 10),
        P24,
        id="mlk-routine-extended",
    ),
    # ---- Presidents' Day 2027, urgent: received Fri 02-12 16:00; + 72 h = Mon 02-15 16:00.
    # early, decided Sat 02-13 10:00: 2 bd skip Mon 02-15 → Tue 02-16, Wed 02-17; 72 h binds.
    pytest.param(
        "urgent",
        pt(2027, 2, 12, 16),
        None,
        pt(2027, 2, 13, 10),
        pt(2027, 2, 15, 16),
        M72,
        pt(2027, 2, 15, 16),
        P72,
        id="presidents-urgent-early",
    ),
    # late, decided Mon 02-15 14:00 (hour 70): 2 bd → Tue, Wed; 72 h binds.
    pytest.param(
        "urgent",
        pt(2027, 2, 12, 16),
        None,
        pt(2027, 2, 15, 14),
        pt(2027, 2, 15, 16),
        M72,
        pt(2027, 2, 15, 16),
        P72,
        id="presidents-urgent-late",
    ),
    # extended (Sun 02-14) to Fri 02-26 16:00 (14-day cap Fri 02-26 23:59:59); decided Thu 02-25
    # 18:00: 2 bd → Fri 02-26, Mon 03-01; the extended deadline Fri 16:00 binds both (provider:
    # decision + 24 h is Fri 18:00, later).
    pytest.param(
        "urgent",
        pt(2027, 2, 12, 16),
        pt(2027, 2, 26, 16),
        pt(2027, 2, 25, 18),
        pt(2027, 2, 26, 16),
        MEXT,
        pt(2027, 2, 26, 16),
        PEXT,
        id="presidents-urgent-extended",
    ),
    # ---- Presidents' Day 2027, routine: received Thu 02-11 11:00; 7 calendar days → Thu 02-18.
    # early, decided Fri 02-12 11:00: 2 bd skip Mon 02-15 → Tue 02-16, Wed 02-17 → Wed binds.
    pytest.param(
        "routine",
        pt(2027, 2, 11, 11),
        None,
        pt(2027, 2, 12, 11),
        eod(2027, 2, 17),
        M2BD,
        pt(2027, 2, 13, 11),
        P24,
        id="presidents-routine-early",
    ),
    # late, decided Wed 02-17 10:00: 2 bd → Thu 02-18, Fri 02-19; the 7-day limit Thu binds.
    pytest.param(
        "routine",
        pt(2027, 2, 11, 11),
        None,
        pt(2027, 2, 17, 10),
        eod(2027, 2, 18),
        M7CD,
        pt(2027, 2, 18, 10),
        P24,
        id="presidents-routine-late",
    ),
    # extended (Tue 02-16) to Fri 02-26 23:59:59; decided Thu 02-25 16:00: 2 bd → Fri 02-26,
    # Mon 03-01; the extended deadline Fri 02-26 binds.
    pytest.param(
        "routine",
        pt(2027, 2, 11, 11),
        eod(2027, 2, 26),
        pt(2027, 2, 25, 16),
        eod(2027, 2, 26),
        MEXT,
        pt(2027, 2, 26, 16),
        P24,
        id="presidents-routine-extended",
    ),
]


@pytest.mark.parametrize(
    (
        "urgency",
        "received",
        "extended",
        "decided",
        "member_due",
        "member_rule",
        "provider_due",
        "provider_rule",
    ),
    GOLDEN,
)
def test_notice_clocks_golden_table(
    urgency, received, extended, decided, member_due, member_rule, provider_due, provider_rule
):
    kwargs = {
        "received_at": received,
        "request_type": "pre_service",
        "urgency": urgency,
        "decided_at": decided,
        "calendar": plan_calendar(),
        "extended_due_at": extended,
    }
    member = clocks.member_notice_deadline(**kwargs)
    provider = clocks.provider_notice_deadline(**kwargs)
    assert (member.due_at, member.rule) == (member_due, member_rule)
    assert provider is not None
    assert (provider.due_at, provider.rule) == (provider_due, provider_rule)
    # Never a notice due before the decision it reports, when the decision was in time.
    assert member.due_at >= decided and provider.due_at >= decided

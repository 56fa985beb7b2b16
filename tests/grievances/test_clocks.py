"""Grievance clocks (pure): acknowledgement within 5 calendar days (H&S 1368(a)(4); 28 CCR
1300.68(d)(1)), resolution within 30 calendar days (H&S 1368(a)(5)), expedited 72 hours
(H&S 1368.01(b)); "N calendar days" ends 23:59:59 Pacific of the Nth day (PRODUCT §4)."""

from __future__ import annotations

from datetime import datetime

import pytest

from grievances.clocks import GrievanceRule, grievance_clocks
from tests.conftest import PACIFIC


def test_standard_grievance_acknowledged_in_5_and_resolved_in_30_calendar_days():
    # Wednesday 14 April 2027 10:00 → ack 19 April 23:59:59, resolution 14 May 23:59:59.
    clocks = grievance_clocks(
        received_at=datetime(2027, 4, 14, 10, 0, tzinfo=PACIFIC), expedited=False
    )
    assert clocks.acknowledgement.due_at == datetime(2027, 4, 19, 23, 59, 59, tzinfo=PACIFIC)
    assert clocks.acknowledgement.rule == GrievanceRule.ACK_5_CALENDAR_DAYS
    assert clocks.resolution.due_at == datetime(2027, 5, 14, 23, 59, 59, tzinfo=PACIFIC)
    assert clocks.resolution.rule == GrievanceRule.RESOLUTION_30_CALENDAR_DAYS


def test_calendar_days_ignore_weekends_and_holidays():
    # Friday 24 December 2027, 16:30: Christmas and the weekend count; ack Wed 29 Dec.
    clocks = grievance_clocks(
        received_at=datetime(2027, 12, 24, 16, 30, tzinfo=PACIFIC), expedited=False
    )
    assert clocks.acknowledgement.due_at == datetime(2027, 12, 29, 23, 59, 59, tzinfo=PACIFIC)
    # 30 days after 24 Dec 2027 is 23 Jan 2028 (a Sunday: still due, calendar days).
    assert clocks.resolution.due_at == datetime(2028, 1, 23, 23, 59, 59, tzinfo=PACIFIC)


def test_a_late_evening_receipt_counts_from_its_pacific_date():
    # 23:30 Pacific on 31 Jan is 1 Feb in UTC; the Pacific date decides: ack 5 Feb.
    clocks = grievance_clocks(
        received_at=datetime(2027, 1, 31, 23, 30, tzinfo=PACIFIC), expedited=False
    )
    assert clocks.acknowledgement.due_at == datetime(2027, 2, 5, 23, 59, 59, tzinfo=PACIFIC)


def test_expedited_grievance_is_resolved_within_72_hours_and_acknowledged_by_then():
    received = datetime(2027, 3, 13, 9, 15, tzinfo=PACIFIC)  # DST starts 14 March 02:00
    clocks = grievance_clocks(received_at=received, expedited=True)
    # 72 elapsed hours across the spring-forward night: 16 March 10:15 PDT.
    assert clocks.resolution.due_at == datetime(2027, 3, 16, 10, 15, tzinfo=PACIFIC)
    assert clocks.resolution.rule == GrievanceRule.RESOLUTION_EXPEDITED_72_HOURS
    assert clocks.acknowledgement.due_at == clocks.resolution.due_at
    assert clocks.acknowledgement.rule == GrievanceRule.ACK_WITH_EXPEDITED_RESOLUTION


def test_a_naive_receipt_time_is_refused():
    with pytest.raises(ValueError):
        grievance_clocks(received_at=datetime(2027, 4, 14, 10, 0), expedited=False)

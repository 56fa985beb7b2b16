import logging

from tar_portal.logging import RedactPHIFilter, redact


def test_cins_query_strings_and_dates_are_masked():
    line = '"GET /api/v1/members/90000001A/?date_of_birth=1975-04-12 HTTP/1.1" 200'
    cleaned = redact(line)
    assert "90000001A" not in cleaned
    assert "1975-04-12" not in cleaned
    assert "/api/v1/members/[CIN]/?[redacted]" in cleaned


def test_the_filter_rewrites_formatted_records():
    record = logging.LogRecord(
        "django.server", logging.INFO, __file__, 1, "%s %s", ("GET", "/members/90000006F/"), None
    )
    assert RedactPHIFilter().filter(record)
    assert record.getMessage() == "GET /members/[CIN]/"


def test_a_cin_typed_in_lower_case_is_masked_too():
    cleaned = redact("lookup failed for 90000001a and 90000006F")
    assert "90000001a" not in cleaned and "90000006F" not in cleaned
    assert cleaned == "lookup failed for [CIN] and [CIN]"

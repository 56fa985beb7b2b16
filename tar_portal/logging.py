"""No PHI in logs: a filter on every handler that masks member identifiers (CINs) and the
query strings of request lines before a record is written."""

import logging
import re

# A CIN is 8 digits and a letter; typed in lower case it is still one (issue 12).
_CIN = re.compile(r"\b\d{8}[A-Za-z]\b")
_QUERY = re.compile(r"(\?)[^\s\"']+")
_DOB = re.compile(r"\b(19|20)\d\d-\d\d-\d\d\b")


def redact(text: str) -> str:
    text = _CIN.sub("[CIN]", text)
    text = _QUERY.sub(r"\1[redacted]", text)
    return _DOB.sub("[date]", text)


class RedactPHIFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = ()
        return True


class ForbiddenOneLineFilter(logging.Filter):
    """A refused request (403) is an expected outcome, not a fault: one line with the path,
    no traceback (issue 15: every 403 logged a full traceback). Other errors keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True

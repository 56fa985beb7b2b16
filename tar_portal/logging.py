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

import re

from django.core.exceptions import ValidationError

CIN_RE = re.compile(r"^\d{8}[A-Z]$")


def normalize_cin(value: str) -> str:
    return (value or "").strip().upper()


def validate_cin(value: str) -> None:
    """Medi-Cal client index number: 8 digits and 1 letter, e.g. 91234567A (PRODUCT §3)."""
    if not CIN_RE.match(value or ""):
        raise ValidationError(
            "A CIN is 8 digits followed by 1 letter, e.g. 91234567A.", code="invalid_cin"
        )

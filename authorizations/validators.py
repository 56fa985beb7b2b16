import re

from django.core.exceptions import ValidationError

NPI_RE = re.compile(r"^\d{10}$")
CPT_RE = re.compile(r"^\d{5}$")
HCPCS_RE = re.compile(r"^[A-Z]\d{4}$")
MODIFIER_RE = re.compile(r"^[A-Z0-9]{2}$")


def npi_is_valid(value: str) -> bool:
    """NPI check digit: Luhn over the 9 leading digits prefixed with 80840 (CMS NPI standard)."""
    if not NPI_RE.match(value or ""):
        return False
    digits = [int(c) for c in "80840" + value[:9]]
    total = 0
    # Luhn doubles every second digit counting from the right of the payload (the check digit
    # would be position 0), so the rightmost payload digit is doubled.
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    check = (10 - total % 10) % 10
    return check == int(value[9])


def npi_check_digit(first_nine: str) -> str:
    """The check digit that makes `first_nine` + digit a valid NPI (used by seed data)."""
    for candidate in "0123456789":
        if npi_is_valid(first_nine + candidate):
            return candidate
    raise ValueError("no check digit")  # unreachable for 9 digits


def validate_npi(value: str) -> None:
    if not npi_is_valid(value):
        raise ValidationError(
            "An NPI is 10 digits whose last digit is the Luhn check digit (prefix 80840).",
            code="invalid_npi",
        )


def is_procedure_code(value: str) -> bool:
    """CPT (5 digits) or HCPCS Level II (a letter and 4 digits)."""
    return bool(CPT_RE.match(value) or HCPCS_RE.match(value))

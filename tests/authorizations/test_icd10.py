"""authorizations.icd10 answers exactly as simple_icd_10_cm for every code it ships, without
loading the library's tree (issue 16: lean workers)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import simple_icd_10_cm as library

from authorizations import icd10


def test_codes_answer_as_the_library():
    """Every 25th code of the release (the library's own lookups are too slow to ask all
    98,000 in a test), and every code the plan's criteria and seeds name."""
    codes = library.get_all_codes(True)
    assert len(codes) > 90_000
    sample = [*codes[::25], "M54.16", "M5416", "M47.816", "M54.5", "M54.50", "G89.4", "M96.1"]
    wrong = [
        code
        for code in sample
        if icd10.is_valid_item(code) != library.is_valid_item(code)
        or icd10.is_leaf(code) != library.is_leaf(code)
        or icd10.add_dot(code) != library.add_dot(code)
    ]
    assert wrong == []
    dotted = [library.add_dot(code) for code in codes[::250]]
    assert [icd10.is_leaf(c) for c in dotted] == [library.is_leaf(c) for c in dotted]


@pytest.mark.parametrize(
    "code", ["", "ZZZ", "M54.1.6", "M.5416", "M54.", "m54.16", " M5416 ", "A00-A09", "1", "M54"]
)
def test_malformed_and_partial_codes(code):
    valid = library.is_valid_item(code.strip().upper()) if code.strip() else False
    assert icd10.is_valid_item(code) == valid
    assert icd10.is_leaf(code) == (valid and library.is_leaf(code.strip().upper()))


def test_validation_does_not_load_the_library():
    """A fresh process that validates diagnoses through the submission path never imports
    simple_icd_10_cm (its import alone is ~175 MB)."""
    script = (
        "import sys, django, os;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tar_portal.settings.test');"
        "django.setup();"
        "from authorizations.services.referrals import check_diagnoses;"
        "errors = {};"
        "assert check_diagnoses(['M54.16'], 'dx', errors) == ['M54.16'], errors;"
        "import tar_portal.urls;"
        "print('simple_icd_10_cm' in sys.modules)"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter, a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "False", result.stderr


def test_description_comes_from_the_library():
    assert icd10.description("M54.16") == library.get_description("M54.16")

"""The nurse's close form offers only the grounds the record supports (PRODUCT §2; issue 11
row 9)."""

from __future__ import annotations

import pytest

from authorizations.models import Tar

pytestmark = pytest.mark.django_db


def test_the_portal_close_form_lists_only_supported_grounds(client_for, submit, world):
    earlier = Tar.objects.get(pk=submit())
    tar_id = submit()
    page = client_for("nurse").get(f"/review/tars/{tar_id}/").content.decode()
    assert 'value="duplicate"' in page
    assert earlier.number in page
    assert 'value="not_eligible"' not in page
    assert 'value="not_a_benefit"' not in page

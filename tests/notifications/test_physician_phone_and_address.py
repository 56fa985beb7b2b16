"""PRODUCT §7 (issue 11 row 15): the deciding physician's direct telephone is required and
never replaced by the UM line; the plan's mailing address is printed where a letter says
"in writing". Letters are real PDFs read back."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Role, User
from notifications.context import LetterError, reviewer_for
from tests import factories
from tests.notifications.conftest import ESI_SHORT_CARE, letter_for, letter_pdf
from tests.notifications.pdf import has, pdf_text

pytestmark = pytest.mark.django_db

ADDRESS = "Golden Valley Health Plan, Appeals and Grievances, P.O. Box 4000, Sacramento, CA 95812"


def test_a_physician_account_cannot_be_saved_without_a_direct_telephone(world):
    physician = User(username="dr_new", role=Role.PHYSICIAN)
    with pytest.raises(ValidationError) as caught:
        physician.full_clean()
    assert "direct_phone" in caught.value.message_dict
    with pytest.raises(ValidationError):
        physician.save()
    assert not User.objects.filter(username="dr_new").exists()
    existing = world.users["physician"]
    existing.direct_phone = "  "
    with pytest.raises(ValidationError):
        existing.save()
    # A nurse needs none; a save of other fields (the login stamp) is not blocked.
    factories.UserFactory(username="nurse_new", role=Role.NURSE).full_clean()
    User.objects.filter(pk=existing.pk).update(direct_phone="")
    legacy = User.objects.get(pk=existing.pk)
    legacy.save(update_fields=["last_login"])


def test_a_physician_without_a_direct_phone_is_never_printed_with_the_um_line(world):
    User.objects.filter(pk=world.users["physician"].pk).update(direct_phone="")
    with pytest.raises(LetterError):
        reviewer_for(User.objects.get(pk=world.users["physician"].pk))
    # A nurse's letter names no direct line at all (before: the UM line, as "direct").
    nurse = reviewer_for(world.users["nurse"])
    assert nurse.phone == "" and not nurse.is_physician


def test_the_denial_letter_prints_the_deciding_physicians_direct_phone(submit, deny, world):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    text = pdf_text(letter_pdf(letter_for(tar_id, "denial", "provider")))
    assert not has(text, f"Direct telephone: {world.users['physician'].direct_phone}.")


def test_letters_print_the_plan_mailing_address_where_they_say_in_writing(submit, deny):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    provider = pdf_text(letter_pdf(letter_for(tar_id, "denial", "provider")))
    member = pdf_text(letter_pdf(letter_for(tar_id, "denial", "member")))
    assert not has(provider, f"through the portal, or in writing to {ADDRESS}.")
    assert not has(
        member,
        f"send us a letter or the appeal form (Member Services will mail you one) at: {ADDRESS}.",
    )

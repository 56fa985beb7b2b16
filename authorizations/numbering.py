from django.db import transaction

from authorizations.models import NumberSequence


@transaction.atomic
def next_number(prefix: str, year: int) -> str:
    """`TAR-2026-000123`: a per-year counter taken under a row lock, so concurrent
    submissions never share a number."""
    sequence, _ = NumberSequence.objects.select_for_update().get_or_create(prefix=prefix, year=year)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return f"{prefix}-{year}-{sequence.last_value:06d}"

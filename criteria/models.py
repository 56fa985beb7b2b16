from datetime import date

from django.db import models
from django.db.models import Q
from django.utils import timezone


class CriteriaSet(models.Model):
    """One published version of a criteria set. Immutable: a new version is a new row, so a
    decision that cited version N still cites the same words after N+1 is published."""

    set_id = models.CharField(max_length=40)
    version = models.CharField(max_length=20)
    title = models.CharField(max_length=160)
    family = models.CharField(max_length=40)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    sources = models.JSONField(default=list)
    # The numbered criteria with their plain-language text, questions and rule (data).
    definition = models.JSONField()
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["set_id", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["set_id", "version"], name="criteria_set_version"),
            models.CheckConstraint(
                name="criteria_set_effective_range",
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.set_id} v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("A published criteria set is immutable; publish a new version.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("A published criteria set is never deleted.")

    @property
    def criteria(self) -> list[dict]:
        return list(self.definition.get("criteria", []))


class CriteriaSetSetting(models.Model):
    """Plan settings for a criteria set that are not part of the published text."""

    set_id = models.CharField(max_length=40, unique=True)
    # PRODUCT §2: automated rules may approve where a set allows it; off by default.
    auto_approve = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.set_id} settings"


class BenefitExclusion(models.Model):
    """A service the plan's Medi-Cal contract does not cover (the benefit table, PRODUCT §2):
    a nurse may close a request `not_a_benefit` only when a row here covers every line's code
    on its date of service; anything else goes to a physician. Edited by the UM manager in the
    admin; a row is ended (``end_date``), not deleted, so old closures stay explained."""

    code = models.CharField(max_length=5, help_text="CPT or HCPCS code.")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Empty: open-ended.")
    reason = models.CharField(max_length=200, help_text="Why it is not a benefit, in plain words.")
    source = models.CharField(max_length=200, help_text="The contract or rule that excludes it.")

    class Meta:
        ordering = ["code", "-start_date"]
        indexes = [models.Index(fields=["code"], name="benefit_exclusion_code_idx")]

    def __str__(self) -> str:
        return f"{self.code} excluded from {self.start_date}"

    def covers(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)

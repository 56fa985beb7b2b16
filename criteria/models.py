from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from criteria.coverage import CoverageRule, PaListRow
from criteria.engine import CriteriaError, normalize_code
from tar_portal.versioned import version_bump


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


CRITERIA_SETS_VERSION_KEY = "criteria-sets-version"


@receiver([post_save, post_delete], sender=CriteriaSet)
@receiver([post_save, post_delete], sender=CriteriaSetSetting)
def _criteria_sets_changed(**kwargs) -> None:
    # A published version or a changed setting: every process reads the sets again
    # (criteria.services.criteria_set_in_force, tar_portal.versioned).
    version_bump(CRITERIA_SETS_VERSION_KEY)


class PaListEntry(models.Model):
    """One entry of the plan's prior-authorization list (PRODUCT §5; issue 11 row 12): a code
    or an inclusive range of codes, in force between two dates, saying whether a TAR is needed,
    with its rule and source. Kept by the UM manager in the admin; every change is recorded
    (PaListChange). A code on no entry needs no TAR (criteria.coverage)."""

    code_from = models.CharField(max_length=5, help_text="CPT (5 digits) or HCPCS (A1234).")
    code_to = models.CharField(
        max_length=5, help_text="Last code of the range (inclusive); the same as the first for one."
    )
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Inclusive; blank = open.")
    tar_required = models.BooleanField()
    rule = models.CharField(max_length=60, choices=[(r.value, r.value) for r in CoverageRule])
    source = models.CharField(max_length=200, help_text="Policy or regulation, e.g. 001 I.A.4.a.")
    description = models.CharField(max_length=200)

    class Meta:
        ordering = ["code_from", "effective_from"]
        constraints = [
            models.CheckConstraint(
                name="pa_list_effective_range",
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
            ),
            models.CheckConstraint(
                name="pa_list_code_range", condition=Q(code_to__gte=models.F("code_from"))
            ),
        ]

    def __str__(self) -> str:
        codes = (
            self.code_from if self.code_from == self.code_to else f"{self.code_from}–{self.code_to}"
        )
        return f"{codes} {'TAR' if self.tar_required else 'no TAR'} ({self.rule})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        for field in ("code_from", "code_to"):
            try:
                setattr(self, field, normalize_code(getattr(self, field) or ""))
            except CriteriaError:
                errors[field] = "Enter a CPT (5 digits) or HCPCS (letter + 4 digits) code."
        if not errors:
            if not (
                self.code_from[0].isdigit() == self.code_to[0].isdigit()
                and (self.code_from[0].isdigit() or self.code_from[0] == self.code_to[0])
            ):
                errors["code_to"] = "A range runs within one kind of code (e.g. E0782–E0786)."
            elif self.code_to < self.code_from:
                errors["code_to"] = "The last code comes after the first."
        if self.effective_to and self.effective_from and self.effective_to < self.effective_from:
            errors["effective_to"] = "The end date comes after the start date."
        if errors:
            raise ValidationError(errors)

    def as_row(self) -> PaListRow:
        return PaListRow(
            code_from=self.code_from,
            code_to=self.code_to,
            effective_from=self.effective_from,
            effective_to=self.effective_to,
            tar_required=self.tar_required,
            rule=self.rule,
            source=self.source,
            description=self.description,
        )


@receiver([post_save, post_delete], sender=PaListEntry)
def _pa_list_changed(**kwargs) -> None:
    # Every edit, however made, makes each process read the list again (tar_portal.versioned).
    version_bump("pa-list-version")


class PaListChange(models.Model):
    """Who changed the PA list, what and when (append-only, written by criteria.services)."""

    ACTIONS = [("added", "Added"), ("changed", "Changed"), ("removed", "Removed")]

    entry_id_at_change = models.PositiveIntegerField()
    action = models.CharField(max_length=10, choices=ACTIONS)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.changed_at:%Y-%m-%d %H:%M} {self.action} entry {self.entry_id_at_change}"


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

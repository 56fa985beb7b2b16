from datetime import date

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from members.validators import validate_cin


class WrittenLanguage(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish"


class AlternateFormat(models.TextChoices):
    STANDARD = "standard", "Standard print"
    LARGE_PRINT = "large_print", "Large print (18 pt or larger)"
    BRAILLE = "braille", "Braille"
    AUDIO = "audio", "Audio"


class Member(models.Model):
    cin = models.CharField("CIN", max_length=9, unique=True, validators=[validate_cin])
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    date_of_birth = models.DateField()
    address_line1 = models.CharField(max_length=120)
    address_line2 = models.CharField(max_length=120, blank=True)
    city = models.CharField(max_length=80)
    state = models.CharField(max_length=2, default="CA")
    postal_code = models.CharField(max_length=10)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    written_language = models.CharField(
        max_length=5, choices=WrittenLanguage.choices, default=WrittenLanguage.ENGLISH
    )
    alternate_format = models.CharField(
        max_length=20, choices=AlternateFormat.choices, default=AlternateFormat.STANDARD
    )
    pcp = models.ForeignKey(
        "authorizations.Provider",
        verbose_name="assigned PCP",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_members",
    )
    # Clinical flags that change authorization rules (001 I.A.1-3: no pump TAR needed).
    hospice = models.BooleanField("hospice enrollment", default=False)
    terminal_condition = models.BooleanField(default=False)
    cancer_diagnosis = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            # The queue's and the provider dashboard's search by name (`icontains`, which
            # PostgreSQL runs as UPPER(name) LIKE '%…%'): trigram indexes on exactly that
            # expression, so a name is found without reading every member (issue 16).
            GinIndex(
                OpClass(Upper("first_name"), name="gin_trgm_ops"), name="member_first_trgm_idx"
            ),
            GinIndex(OpClass(Upper("last_name"), name="gin_trgm_ops"), name="member_last_trgm_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.cin}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def is_eligible_on(self, day: date) -> bool:
        # Uses prefetched spans when present, so a list of members costs no extra queries.
        return any(span.covers(day) for span in self.eligibility_spans.all())


class EligibilitySpan(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="eligibility_spans")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Empty: open-ended.")
    # A retroactive grant covers dates before it was granted (002 post-service review).
    retroactive = models.BooleanField(default=False)
    granted_on = models.DateField(
        null=True, blank=True, help_text="When the State granted a retroactive span."
    )
    aid_code = models.CharField(max_length=4, blank=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                name="eligibility_span_ends_after_start",
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
            ),
            models.CheckConstraint(
                name="retroactive_span_has_grant_date",
                condition=Q(retroactive=False) | Q(granted_on__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_date} – {self.end_date or 'open'}"

    def covers(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class LookupOutcome(models.TextChoices):
    RELATED = "related", "Found; the office cares for the member"  # demographics shown
    ELIGIBILITY_ONLY = "eligibility_only", "Found; eligibility only"  # no relationship
    NOT_FOUND = "not_found", "No member with this CIN and date of birth"


class MemberLookup(models.Model):
    """Append-only audit of every member lookup by a provider user (who, when, from where,
    what they typed, what they were shown). A failed lookup is recorded too: that is how
    someone trying CINs one after another shows up (issue 12)."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="member_lookups"
    )
    organization = models.ForeignKey(
        "authorizations.ProviderOrganization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="lookups"
    )
    cin = models.CharField("CIN as typed (normalised)", max_length=20)
    date_of_birth = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=LookupOutcome.choices)
    channel = models.CharField(max_length=10)  # "api" or "portal"
    address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["user", "at"], name="member_lookup_user_idx")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Lookup audit rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Lookup audit rows are append-only.")

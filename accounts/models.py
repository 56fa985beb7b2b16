from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    PROVIDER = "provider", "Provider user"  # staff of a provider organization
    INTAKE = "intake", "Intake coordinator"  # enters fax/mail/phone TARs
    NURSE = "nurse", "UM nurse"  # triages, approves when criteria are met
    PHYSICIAN = "physician", "Physician reviewer"  # every decision incl. medical necessity
    MEMBER = "member", "Member"  # a Medi-Cal beneficiary, sees only their own records
    MEMBER_SERVICES = "member_services", "Member services"  # acts for a member who called
    MANAGER = "manager", "UM manager"  # configures criteria, calendar, users; reports
    # Plan staff who acknowledge, investigate and resolve grievances (42 CFR 438.406; H&S 1368)
    GRIEVANCE_COORDINATOR = "grievances", "Grievance coordinator"


PLAN_STAFF_ROLES = frozenset(
    {
        Role.INTAKE,
        Role.NURSE,
        Role.PHYSICIAN,
        Role.MEMBER_SERVICES,
        Role.MANAGER,
        Role.GRIEVANCE_COORDINATOR,
    }
)
# Plan staff whose reads of a member's clinical record are written to the history.
CLINICAL_READ_LOGGED_ROLES = PLAN_STAFF_ROLES


PHYSICIAN_NEEDS_DIRECT_PHONE = (
    "A physician reviewer needs a direct telephone: it is printed on every provider letter "
    "about their decisions (PRODUCT §7)."
)


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices)
    organization = models.ForeignKey(
        "authorizations.ProviderOrganization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text="Provider users only: the organization whose requests they see.",
    )
    provider = models.ForeignKey(
        "authorizations.Provider",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text="The clinician this login belongs to (provider users and physician "
        "reviewers); used for the default requesting provider and conflict-of-interest.",
    )
    member = models.OneToOneField(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="user",
        help_text="Member logins only.",
    )
    # 42 CFR 438.406(b)(2)(i): an appeal is decided by someone who was not involved in any
    # earlier level of review "nor a subordinate of any such individual". The reporting line
    # is the plan's org chart: the person this user reports to (None: reports to nobody here).
    supervisor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subordinates",
        help_text="Plan staff: whom this user reports to (appeal independence, 438.406(b)(2)).",
    )
    direct_phone = models.CharField(
        max_length=30, blank=True, help_text="Printed on provider letters (physicians)."
    )
    failed_login_count = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="provider_user_has_organization",
                condition=~Q(role="provider") | Q(organization__isnull=False),
            ),
            models.CheckConstraint(
                name="member_user_has_member",
                condition=~Q(role="member") | Q(member__isnull=False),
            ),
        ]

    def clean(self) -> None:
        super().clean()
        if self.role == Role.PHYSICIAN and not (self.direct_phone or "").strip():
            raise ValidationError({"direct_phone": PHYSICIAN_NEEDS_DIRECT_PHONE})

    def save(self, *args, **kwargs):
        # PRODUCT §7: a deciding physician's direct telephone is printed on every provider
        # letter and never replaced by the general UM line, so a physician account is never
        # saved without one (a save of other fields only, e.g. the login timestamp, passes).
        update_fields = kwargs.get("update_fields")
        checks_phone = update_fields is None or {"role", "direct_phone"} & set(update_fields)
        if checks_phone and self.role == Role.PHYSICIAN and not (self.direct_phone or "").strip():
            raise ValidationError({"direct_phone": PHYSICIAN_NEEDS_DIRECT_PHONE})
        # set_password() leaves the new raw password in _password until the save; a hash
        # upgrade at login clears it first, so only a real change revokes the API tokens.
        password_changed = getattr(self, "_password", None) is not None and self.pk is not None
        super().save(*args, **kwargs)
        if password_changed:
            from accounts.tokens import tokens_revoke_all

            tokens_revoke_all(user=self)

    @property
    def is_plan_staff(self) -> bool:
        return self.role in PLAN_STAFF_ROLES

    def superiors(self) -> set[int]:
        """Everyone up this user's reporting line (the supervisor, theirs, ...): this user is a
        subordinate of each of them (42 CFR 438.406(b)(2)(i)). A cycle in the data stops the
        walk instead of looping."""
        seen: set[int] = set()
        current = self.supervisor_id
        while current is not None and current not in seen and current != self.pk:
            seen.add(current)
            current = (
                User.objects.filter(pk=current).values_list("supervisor_id", flat=True).first()
            )
        return seen

    def has_role(self, *roles: str) -> bool:
        return self.is_active and self.role in roles

    def clinician_name(self) -> str:
        """The name a letter or a case summary prints: the clinician's name from their
        provider record (with credentials), else their full name, else the username."""
        name = ""
        provider = self.provider if self.provider_id else None
        if provider is not None:
            name = provider.name
            if provider.credentials and provider.credentials not in name:
                name = f"{name}, {provider.credentials}"
        return name or self.get_full_name() or self.username

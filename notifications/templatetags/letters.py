"""Filters for letter templates: dates in the letter's language, phone numbers that never
break across lines."""

from django import template
from django.utils.html import conditional_escape

from authorizations import wording

register = template.Library()


@register.filter
def ldate(value, language="en"):
    return wording.format_date(value, language)


@register.filter
def ldatetime(value, language="en"):
    return wording.format_datetime(value, language)


# U+2060 WORD JOINER forbids a line break next to it (UAX #14, LB11) and prints nothing.
_JOIN = "\u2060"


@register.filter
def phone(value):
    """A telephone number kept on one line by word joiners after its spaces and hyphens.

    Not a `white-space: nowrap` span: WeasyPrint, when such a span does not fit at the end of
    a line that also holds "Medi-Cal", breaks the line after its first word instead ("The" /
    "Medi-Cal Managed Care Ombudsman ..."). Joiners leave the break to the ordinary rules,
    and the number reads and copies as typed."""
    joined = str(value).replace(" ", " " + _JOIN).replace("-", "-" + _JOIN)
    return conditional_escape(joined)


@register.filter
def outcome_label(value, language="en"):
    return wording.pick(wording.APPEAL_OUTCOMES, value, language)


@register.filter
def imr_type(value, language="en"):
    return wording.pick(wording.IMR_TYPES, value, language)

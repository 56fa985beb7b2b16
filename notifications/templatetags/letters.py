"""Filters for letter templates: dates in the letter's language, phone numbers that never
break across lines."""

from django import template
from django.utils.html import format_html

from authorizations import wording

register = template.Library()


@register.filter
def ldate(value, language="en"):
    return wording.format_date(value, language)


@register.filter
def ldatetime(value, language="en"):
    return wording.format_datetime(value, language)


@register.filter
def phone(value):
    return format_html('<span class="nowrap">{}</span>', value)


@register.filter
def outcome_label(value, language="en"):
    return wording.pick(wording.APPEAL_OUTCOMES, value, language)


@register.filter
def imr_type(value, language="en"):
    return wording.pick(wording.IMR_TYPES, value, language)

"""Template filters shared by every page."""

from django import template

from portal.numbers import number_text

register = template.Library()


@register.filter
def number(value, places=4):
    """A number as ``portal.numbers.number_text`` writes it (never 1E+1, never 2.2000)."""
    return number_text(value, int(places))

"""Template filters shared by every page."""

from django import template

from portal.numbers import number_text
from units.people import person_name

register = template.Library()


@register.filter
def number(value, places=4):
    """A number as ``portal.numbers.number_text`` writes it (never 1E+1, never 2.2000)."""
    return number_text(value, int(places))


@register.filter
def sees_open_questions(user) -> bool:
    """Whether the page shows a target's 待明确事项 (see ``targets.selectors.sees_open_questions``)."""
    from targets.selectors import sees_open_questions as sees

    return sees(user)


@register.filter
def person(user):
    """A person as ``units.people.person_name`` names them: ``{{ run.requested_by|person }}``."""
    return person_name(user)

"""Template filters shared by every page."""

from django import template

from portal.names import chinese_text_html, display_name, name_html
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


@register.filter
def shown(obj):
    """A plan object's name in the active language (``portal.names``), marked where Chinese stands in."""
    return name_html(obj)


@register.filter
def shown_full(obj):
    """Like ``shown``, the full name (a unit's 单位全称)."""
    return name_html(obj, full=True)


@register.filter
def shown_text(obj):
    """The name as plain text, for attributes and options."""
    return display_name(obj)


@register.filter
def shown_full_text(obj):
    """The full name as plain text."""
    return display_name(obj, full=True)


@register.filter
def zh_text(text):
    """A Chinese text without English (a measure's text): marked and tagged lang="zh-Hans" in English."""
    return chinese_text_html(text)

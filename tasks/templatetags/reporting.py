"""Template tags of the reporting cycle: how a form's timeliness reads on every page."""

from django import template
from django.utils.html import format_html_join

from tasks.choices import Timeliness

register = template.Library()


@register.inclusion_tag("tasks/_timeliness.html")
def timeliness_chip(value):
    """按时 / 逾期 / 未报 / 未到期 as a coloured chip: the one way a timeliness is shown (never
    its code). ``value`` is a ``Timeliness`` or its stored code; an empty one shows "—"."""
    if not value:
        return {"code": "", "label": ""}
    timeliness = Timeliness(value)
    return {"code": timeliness.value, "label": timeliness.label}


@register.simple_tag
def status_options(choices, current):
    """The ``<option>``s of a status ``<select>``: ``choices`` as (value, label) pairs, the one equal
    to ``current`` selected. One tag instead of a loop of template nodes on each of a form's lines."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if current == value else "", label) for value, label in choices),
    )

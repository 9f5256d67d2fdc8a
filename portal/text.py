"""Punctuation that differs between Chinese and English, through gettext, so that English pages
do not show full-width separators: 教育厅、科技厅 / Education, Science; 数值：12 / Value: 12."""

from django.utils.translation import gettext as _
from django.utils.translation import pgettext


def enumeration(items) -> str:
    """Items of a list: 甲、乙、丙 / A, B, C."""
    return pgettext("enumeration comma", "、").join(str(item) for item in items)


def clauses(items) -> str:
    """Clauses or counted parts: 已通过 3，未报 1 / approved 3, missing 1."""
    return pgettext("list separator", "，").join(str(item) for item in items)


def labelled(label, value) -> str:
    """A label and its value: 2024年：1.52 元/人 / 2024: 1.52 yuan per person."""
    return _("%(label)s：%(value)s") % {"label": label, "value": value}


def bracketed(text) -> str:
    """A note after a value: （2024年第2季度） / (2024 Q2)."""
    return _("（%(note)s）") % {"note": text}

"""Which name of a plan object a page shows, by the active language: the one place.

Simplified Chinese is the source language; in English mode a page shows an object's English name
where the data has one (``Target.name_en``, ``Initiative.title_en``, ``Unit.short_name_en`` …) and
otherwise the Chinese one, marked visibly and with ``lang="zh-Hans"`` so that screen readers switch
voice. Chinese pages are unchanged: in Chinese mode nothing here reads an English field (so a
queryset that defers them costs no extra query).

Pages use the template filters of ``portal_tags`` (``shown``, ``shown_full``, ``shown_text``,
``zh_text``); Python code (Excel, charts, messages) calls ``display_name``.
"""

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

# model label → (the Chinese field, the English fields in order of preference)
SHORT_NAMES = {
    "tasks.plan": ("name", ("name_en",)),
    "tasks.initiative": ("title", ("title_en",)),
    "tasks.initiativepart": ("title", ("title_en",)),
    "tasks.measure": ("title", ("title_en",)),
    "tasks.milestone": ("name", ("name_en",)),
    "tasks.workpoint": ("title", ()),
    "targets.target": ("name", ("name_en",)),
    "units.unit": ("short_name", ("short_name_en", "name_en")),
    "units.region": ("name", ("name_en", "pinyin")),
}
# where the full name differs from the short one (a unit's 单位全称)
FULL_NAMES = {
    "units.unit": ("name", ("name_en",)),
}


def english() -> bool:
    """Whether the active language is English (the portal's second language)."""
    return (get_language() or "").startswith("en")


def name_and_fallback(obj, *, full=False) -> tuple[str, bool]:
    """(the name to show, whether it is the Chinese one shown for want of an English one)."""
    if obj is None:
        return "", False
    if not hasattr(obj, "_meta"):  # a heading that is already text
        return str(obj), False
    fields = (FULL_NAMES.get(obj._meta.label_lower) if full else None) or SHORT_NAMES.get(
        obj._meta.label_lower
    )
    if fields is None:
        return str(obj), False
    chinese, english_fields = fields
    native = getattr(obj, chinese) or ""
    if not english():
        return native, False
    return pick(native, *(getattr(obj, name, "") for name in english_fields))


def pick(native, *english_names) -> tuple[str, bool]:
    """The same choice for names read as values (``values_list``): the first English name given,
    else the Chinese one (and whether it stands in for English). Call it only in English mode or
    with the English values already read; in Chinese mode it returns the Chinese name."""
    native = native or ""
    if not english():
        return native, False
    for value in english_names:
        if value:
            return value, False
    return native, bool(native)


def display_name(obj, *, full=False) -> str:
    """The name as plain text (options, attributes, Excel, messages)."""
    return name_and_fallback(obj, full=full)[0]


def coded_name(obj) -> str:
    """Code and name as plain text, for a form's choices: T09 补贴性职业技能培训 / T09 Subsidised …"""
    return f"{obj.code} {display_name(obj)}"


def fallback_html(html) -> SafeString:
    """Chinese shown on an English page: lang="zh-Hans" and a visible 中文 tag."""
    return format_html(
        '<span lang="zh-Hans">{}</span> <span class="lang-fallback" title="{}">{}</span>',
        html,
        _("尚无英文，显示中文原文"),
        pgettext("untranslated tag", "中文"),
    )


def name_html(obj, *, full=False) -> SafeString:
    """The name for a page: escaped, and marked where Chinese stands in for English."""
    text, fallback = name_and_fallback(obj, full=full)
    return fallback_html(text) if fallback else conditional_escape(text)


def chinese_text_html(text) -> SafeString:
    """A long Chinese text (a measure's text, an aim) that has no English: marked on English pages."""
    if not text:
        return conditional_escape(text or "")
    if english():
        return fallback_html(conditional_escape(text))
    return conditional_escape(text)

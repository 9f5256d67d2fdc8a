"""Template tags shared by every page."""

import functools

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()


@functools.lru_cache(maxsize=256)
def _reversed(name: str, prefix: str, urlconf) -> str:
    return reverse(name, urlconf=urlconf)


@register.simple_tag
def fixed_url(name):
    """``{% url name %}`` for a URL without arguments (the menu's links): reversed once per
    process, script prefix and URLconf, since the layout of every page shows about fifteen of
    them. For URLs that do not depend on the language (the portal has no ``i18n_patterns``)."""
    return _reversed(name, get_script_prefix(), get_urlconf())


@receiver(setting_changed)
def _forget_on_urlconf_change(setting, **kwargs):
    if setting == "ROOT_URLCONF":  # tests that swap URLconfs
        _reversed.cache_clear()


@register.filter
def sees_open_questions(user) -> bool:
    """Whether the page shows a target's 待明确事项 (see ``targets.selectors.sees_open_questions``)."""
    from targets.selectors import sees_open_questions as sees

    return sees(user)

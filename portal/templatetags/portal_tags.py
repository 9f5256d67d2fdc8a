"""Template tags shared by every page."""

import functools

from django import template
from django.urls import get_script_prefix, reverse

register = template.Library()


@functools.lru_cache(maxsize=256)
def _reversed(name: str, prefix: str) -> str:
    return reverse(name)


@register.simple_tag
def fixed_url(name):
    """``{% url name %}`` for a URL without arguments (the menu's links): reversed once per
    process and script prefix, since the layout of every page shows about fifteen of them."""
    return _reversed(name, get_script_prefix())

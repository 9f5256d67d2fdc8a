"""Template tags of the account pages."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def directory_login():
    """Which directory log-ins the log-in page offers: {"ldap": bool, "oidc": bool}."""
    return {"ldap": bool(settings.LDAP_URLS), "oidc": settings.OIDC_ENABLED}

"""The portal's URLs with the OpenID Connect routes, as units/urls.py adds them when
OIDC_RP_CLIENT_ID is set (tests start with it unset)."""

from django.urls import include, path

from portal.urls import urlpatterns as portal_urlpatterns
from units import urls as account_urls

accounts = [*account_urls.urlpatterns, path("oidc/", include("mozilla_django_oidc.urls"))]

# First, so that the "accounts" namespace resolves here.
urlpatterns = [path("accounts/", include((accounts, "accounts"))), *portal_urlpatterns]

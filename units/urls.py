"""Account pages under /accounts/ (the log-in and log-out pages are in portal/urls.py)."""

from django.conf import settings
from django.urls import include, path

from units import views

app_name = "accounts"

urlpatterns = [
    path("lockouts/", views.LockoutListView.as_view(), name="lockout_list"),
    path("lockouts/unlock/", views.UnlockView.as_view(), name="lockout_unlock"),
    path("tokens/", views.TokenListView.as_view(), name="token_list"),
    path("tokens/<int:user_id>/revoke/", views.TokenRevokeView.as_view(), name="token_revoke"),
    path("unmapped/", views.UnmappedView.as_view(), name="unmapped"),
]

if settings.OIDC_ENABLED:
    # /accounts/oidc/authenticate/ (to the provider) and /accounts/oidc/callback/ (back from it)
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))

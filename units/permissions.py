"""Who may see and do what: the one place pages and API ask.

Scoping querysets lives next to each model (``visible_to(user)``); this module answers the
questions about the user themself.
"""

from django.core.exceptions import ObjectDoesNotExist

from units.choices import Role


def membership_of(user):
    """The user's membership, or None (cached on the user object by the ORM)."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.membership
    except ObjectDoesNotExist:  # a user with no role sees only what any logged-in user sees
        return None


def role_of(user):
    """The user's role; superusers count as the office for reading and reviewing."""
    membership = membership_of(user)
    if membership is not None:
        return membership.role
    if user is not None and user.is_authenticated and user.is_superuser:
        return Role.OFFICE
    return None


def unit_of(user):
    """The unit a user reports for, or None."""
    membership = membership_of(user)
    return membership.unit if membership is not None else None


def is_office(user) -> bool:
    return role_of(user) == Role.OFFICE


def can_read_everything(user) -> bool:
    """The office and viewers read every unit's data."""
    return role_of(user) in (Role.OFFICE, Role.VIEWER)


def directory_account_of(user):
    """The user's DirectoryAccount (their name, unit and role come from the directory), or None for
    a local account. Cached on the user object; costs a query the first time."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.directory_account
    except ObjectDoesNotExist:
        return None


def refused_for_want_of_mapping(user) -> bool:
    """A directory user whom the office's mapping gives no unit and role may use nothing but the
    page that says so (units.middleware) and gets 401 on the API. Local accounts without a role keep
    what any logged-in user may read. Users with a membership cost no query here."""
    if membership_of(user) is not None or user is None or not user.is_authenticated:
        return False
    return directory_account_of(user) is not None

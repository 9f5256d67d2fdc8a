"""Background job of the accounts: the daily check of directory accounts (beat, portal/celery.py)."""

from celery import shared_task


@shared_task(name="units.sync_directory")
def sync_directory():
    """Check every LDAP account against the directory (units.ldap.sync_directory); nothing when
    LDAP is off. Returns the counts."""
    from units.ldap import sync_directory as run

    return run()

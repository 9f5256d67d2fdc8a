"""The "pages" cache: rendered page bodies, each stored with the version of the data it came from.

There are two versions, one per kind of data a cached body is built from:

- ``ROLLUP``: the roll-up's snapshots. Every roll-up that commits bumps it (``bump(ROLLUP)``, on
  commit). The dashboard's bodies and the targets API's pages are stored under it.
- ``WORKFLOW``: the reporting records (forms and their lines, figures and evidence, periods,
  extensions, reminders, messages, evaluation rounds and self-assessments, the plan, units and
  people). Every commit that saves or deletes a row of a model of ``WORKFLOW_APPS`` bumps it
  (``watch_workflow`` connects the receivers; log-in records are left out, see
  ``UNWATCHED_MODELS``). Writes that send no model signal (``bulk_create``, ``QuerySet.update``,
  ``load_plan``, ``seed_demo``, ``restore``) call ``workflow_changed`` or ``bump`` themselves. The
  inbox, the review queue's and the period overview's tables, the menu's badges and the targets
  API's pages are stored under it, for at most ``WORKFLOW_TIMEOUT`` seconds.

A body is stored with the version it was computed at, and computed from what the database holds
after that version was read, so a page shows every write whose commit bumped the version before
the page was asked for. A hit needs no database query to know it is current: the version and the
body are read together (``get_many``), and a body stored under another version is a miss. A body
never holds a CSRF token or anything else of one session: the views cache the parts of a page that
every user of the same key sees, and render the rest (menu, messages, forms' tokens) per request.
When Redis is down the portal is slower, not broken: a cache error counts as a miss (logged once
per call) and the page is computed. A write made while Redis was down could not bump the version:
the bodies cached before it may be served until they expire (``WORKFLOW_TIMEOUT``, one minute).
"""

import hashlib
import logging
import threading
import uuid

from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

log = logging.getLogger(__name__)

ROLLUP = "dashboard:version"  # the key of the roll-up's version (named so since the first release)
WORKFLOW = "workflow:version"

# The apps whose rows the workflow pages show (the plan's own rows are in "targets" too: they change
# only when the plan is loaded).
WORKFLOW_APPS = frozenset({"tasks", "targets", "units", "auth"})
WORKFLOW_TIMEOUT = 60


def _cache():
    return caches["pages"]


def _uncached() -> str:
    return "uncached-" + uuid.uuid4().hex


def lookup(key: str, scope: str | tuple[str, ...] = ROLLUP) -> tuple[str, object]:
    """(current version of ``scope``, the body cached under ``key`` for that version, or None).
    ``scope`` may name several versions (a body built from both kinds of data): a bump of any of
    them retires the body."""
    scopes = (scope,) if isinstance(scope, str) else tuple(scope)
    try:
        found = _cache().get_many([*scopes, key])
        missing = [name for name in scopes if found.get(name) is None]
        for name in missing:  # started, flushed or evicted: a new version (add: a concurrent bump wins)
            _cache().add(name, uuid.uuid4().hex, timeout=None)
        if missing:
            return "|".join(_cache().get(name) or _uncached() for name in scopes), None
        token = "|".join(found[name] for name in scopes)
    except Exception as exc:
        log.warning("pages cache unavailable: %s", exc)
        return _uncached(), None
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == token:
        return token, entry[1]
    return token, None


def store(key: str, token: str, value, timeout: int) -> None:
    """Cache ``value`` under ``key`` as computed at version ``token`` (from ``lookup``). A commit
    that bumps the version in between makes the entry one that is never served. (A slow request
    of the old version may overwrite a newer entry: the next request misses and computes the page
    again, never shows an old one.)"""
    if "uncached-" in token:
        return
    if _holds_a_csrf_token(value):  # a form's token is one session's: never served to another
        log.error("pages cache: %s holds a CSRF token; not cached", key)
        return
    try:
        _cache().set(key, (token, value), timeout=timeout)
    except Exception as exc:
        log.warning("pages cache unavailable: %s", exc)


def _holds_a_csrf_token(value) -> bool:
    texts = value.values() if isinstance(value, dict) else [value]
    return any(isinstance(text, str) and "csrfmiddlewaretoken" in text for text in texts)


def key(name: str, *parts, params=None) -> str:
    """The cache key of a ``name`` body from everything it depends on besides the data: ``parts``
    (the day, the language, the user or their permissions…) and, for a page with a query string,
    its GET ``params`` as sent (every value, in the order of the names)."""
    query = "" if params is None else "&".join(f"{field}={value}" for field, value in sorted(params.lists()))
    digest = hashlib.sha256("\n".join([query, *map(str, parts)]).encode()).hexdigest()
    return f"{name}:{digest}"


def cached(key: str, compute, *, scope: str, timeout: int):
    """The value cached under ``key`` for the current version of ``scope``; otherwise ``compute()``,
    stored for next time."""
    token, value = lookup(key, scope)
    if value is None:
        value = compute()
        store(key, token, value, timeout)
    return value


def bump(scope: str = ROLLUP) -> bool:
    """Retire every body cached under ``scope`` (called after a commit that changed its data);
    False when the cache could not be told."""
    try:
        _cache().set(scope, uuid.uuid4().hex, timeout=None)
        return True
    except Exception as exc:
        log.warning("pages cache unavailable, version not bumped: %s", exc)
        try:
            _cache().delete(scope)
        except Exception:  # still down: the bodies expire on their own (``store``'s timeout)
            pass
        return False


# One bump per commit however many rows it wrote: each write schedules a bump numbered in this
# thread's order; at commit the first one bumps for every write scheduled before it. (One
# database: with several, one alias's commit would also stand for the other's pending writes.)
_writes = threading.local()


def workflow_changed(using=None) -> None:
    """Retire the workflow pages once the current transaction commits (at once outside one:
    call it after the write)."""
    _writes.scheduled = number = getattr(_writes, "scheduled", 0) + 1

    def bump_workflow_pages():
        _bump_workflow(number)

    # robust: a callback registered before it that raises must not cost the pages their bump
    transaction.on_commit(bump_workflow_pages, using=using, robust=True)


def _bump_workflow(number: int) -> None:
    if getattr(_writes, "bumped", 0) >= number:
        return  # a bump that ran after this write was scheduled covers it
    scheduled = _writes.scheduled
    if bump(WORKFLOW):  # a failed one is tried again by the next write's callback
        _writes.bumped = scheduled


# Rows of the watched apps that no cached page shows, written on every log-in and log-out: the
# accounts' audit trail, and the user's last log-in time.
UNWATCHED_MODELS = frozenset({"units.authevent"})


def _row_written(sender, using=None, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) == {"last_login"}:
        return
    workflow_changed(using)


def watch_workflow() -> None:
    """Connect the receivers that retire the workflow pages (``PortalConfig.ready``), to each model
    of ``WORKFLOW_APPS`` (not to every model: a model with a delete receiver loses Django's fast
    delete, and the roll-up's snapshots are deleted in bulk)."""
    from django.apps import apps

    for label in sorted(WORKFLOW_APPS):
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if model._meta.label_lower in UNWATCHED_MODELS:
                continue
            for signal in (post_save, post_delete, m2m_changed):
                signal.connect(
                    _row_written,
                    sender=model,
                    dispatch_uid=f"page_cache.{model._meta.label_lower}.{id(signal)}",
                )

"""The "pages" cache: rendered dashboard bodies, and the version token that retires them.

Every roll-up that commits sets a new version (``bump``, on commit), and a body is stored with the
version it was computed from, so a page never shows data older than the last roll-up and a cache
hit needs no database query to know it is current. A hit is one cache round trip: the version and
the body are read together (``get_many``), and a body stored under another version is a miss.
When Redis is down the portal is slower, not broken: a cache error counts as a miss (logged once
per call) and the page is computed.
"""

import logging
import uuid

from django.core.cache import caches

log = logging.getLogger(__name__)

VERSION_KEY = "dashboard:version"


def _cache():
    return caches["pages"]


def _uncached() -> str:
    return "uncached-" + uuid.uuid4().hex


def lookup(key: str) -> tuple[str, object]:
    """(current version, the body cached under ``key`` for that version, or None)."""
    try:
        found = _cache().get_many([VERSION_KEY, key])
        token = found.get(VERSION_KEY)
        if token is None:  # started, flushed or evicted: a new version (add: a concurrent bump wins)
            _cache().add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
            return _cache().get(VERSION_KEY) or _uncached(), None
    except Exception as exc:
        log.warning("pages cache unavailable: %s", exc)
        return _uncached(), None
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == token:
        return token, entry[1]
    return token, None


def store(key: str, token: str, value, timeout: int) -> None:
    """Cache ``value`` under ``key`` as computed at version ``token`` (from ``lookup``). A roll-up
    that commits in between has bumped the version already: the entry is then never served. (A
    slow request of the old version may overwrite a newer entry: the next request misses and
    computes the page again, never shows an old one.)"""
    if token.startswith("uncached-"):
        return
    try:
        _cache().set(key, (token, value), timeout=timeout)
    except Exception as exc:
        log.warning("pages cache unavailable: %s", exc)


def bump() -> None:
    """Retire every cached body (called after a roll-up commits)."""
    try:
        _cache().set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception as exc:
        log.warning("pages cache unavailable, version not bumped: %s", exc)
        try:
            _cache().delete(VERSION_KEY)
        except Exception:  # still down: the bodies expire on their own (``store``'s timeout)
            pass

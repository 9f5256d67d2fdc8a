"""The "pages" cache: rendered dashboard bodies, and the version token that retires them.

Every roll-up that commits sets a new version (``bump``, on commit), and a body is cached under
the version it was computed from, so a page never shows data older than the last roll-up and a
cache hit needs no database query to know it is current. When Redis is down the portal is slower,
not broken: a cache error counts as a miss (logged once per call) and the page is computed.
"""

import logging
import uuid

from django.core.cache import caches

log = logging.getLogger(__name__)

VERSION_KEY = "dashboard:version"


def _cache():
    return caches["pages"]


def version() -> str:
    """The current version token; a new one when the cache has none (started, flushed, evicted)."""
    try:
        token = _cache().get(VERSION_KEY)
        if token is None:
            _cache().add(VERSION_KEY, uuid.uuid4().hex, timeout=None)  # add: a concurrent bump wins
            token = _cache().get(VERSION_KEY)
    except Exception as exc:
        log.warning("pages cache unavailable: %s", exc)
        return "uncached-" + uuid.uuid4().hex
    return token or "uncached-" + uuid.uuid4().hex


def bump() -> None:
    """Retire every cached body (called after a roll-up commits)."""
    try:
        _cache().set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception as exc:
        log.warning("pages cache unavailable, version not bumped: %s", exc)
        try:
            _cache().delete(VERSION_KEY)
        except Exception:  # still down: the bodies expire on their own (``put``'s timeout)
            pass


def get(key: str):
    try:
        return _cache().get(key)
    except Exception as exc:
        log.warning("pages cache unavailable: %s", exc)
        return None


def put(key: str, value, timeout: int) -> None:
    try:
        _cache().set(key, value, timeout=timeout)
    except Exception as exc:
        log.warning("pages cache unavailable: %s", exc)

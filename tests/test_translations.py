"""Every interface string has its English translation, and the compiled catalogue is current."""

from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "en" / "LC_MESSAGES"
# Chinese words that read naturally without a translation in English ("2025年" → "2025").
MAY_BE_EMPTY = {"年"}


def test_every_string_has_an_english_translation():
    po = polib.pofile(str(LOCALE / "django.po"))
    missing = [e.msgid for e in po if not e.obsolete and not e.translated() and e.msgid not in MAY_BE_EMPTY]
    assert missing == [], "run makemessages -l en and translate: " + ", ".join(missing[:10])


def test_compiled_catalogue_matches_the_source():
    po = polib.pofile(str(LOCALE / "django.po"))
    mo = polib.mofile(str(LOCALE / "django.mo"))
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in mo}  # one msgid may have several contexts
    stale = [
        e.msgid
        for e in po.translated_entries()
        if not e.msgid_plural and compiled.get((e.msgctxt, e.msgid)) != e.msgstr
    ]
    assert stale == [], "run manage.py compilemessages"

"""The public pages' Spanish words: every message of the catalog translated, none left fuzzy,
so a new English phrase on a public page cannot reach Spanish readers untranslated."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

CATALOGS = sorted(Path(__file__).resolve().parents[1].glob("locale/*/LC_MESSAGES/django.po"))


def test_there_is_a_spanish_catalog():
    assert [p.parts[-3] for p in CATALOGS] == ["es"]


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.parts[-3])
def test_every_message_is_translated(path):
    with path.open("rb") as handle:
        catalog = read_po(handle)

    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]

    assert untranslated == []
    assert fuzzy == []
    assert len([m for m in catalog if m.id]) >= 25

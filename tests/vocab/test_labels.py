"""Label normalisation and the label index."""

from __future__ import annotations

import pytest

from enrich.vocab.labels import LabelIndex, fold, label_keys, query_keys, singular


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Oil Paint", "oil paint"),
        ("  oil-paint  ", "oil paint"),
        ("Céramique émaillée", "ceramique emaillee"),
        ("Ölfarbe", "olfarbe"),
        ("청자 상감운학문 매병", "청자 상감운학문 매병"),  # Hangul survives decomposition
        ("靑磁", "靑磁"),
        ("<materials by form>", "materials by form"),
        ("wood_carving", "wood carving"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("plural", "single"),
    [
        ("vases", "vase"),
        ("bowls", "bowl"),
        ("boxes", "box"),
        ("brushes", "brush"),
        ("glasses", "glass"),
        ("jewelries", "jewelry"),
        ("knives", "knife"),
        ("ceramics", "ceramics"),
        ("glass", "glass"),
        ("papyrus", "papyrus"),
        ("series", "series"),
        ("canvas", "canva"),  # "-as" is not special-cased; the index has the same key for "canvas"
    ],
)
def test_singular(plural: str, single: str) -> None:
    assert singular(plural) == single


def test_label_keys_for_a_qualified_plural() -> None:
    assert label_keys("vases (vessels)", "en") == [
        ("vases vessels", "exact"),
        ("vases vessel", "singular"),
        ("vases", "unqualified"),
        ("vase", "singular"),
        ("vas", "singular"),  # "-ses" could be "-s" + "es" (canvases): both singulars are keys
    ]
    # No English plural rules for other languages.
    assert label_keys("vases", "fr") == [("vases", "exact")]
    assert query_keys("Teapots") == ["teapots", "teapot"]
    assert query_keys("canvases") == ["canvases", "canvase", "canvas"]


def test_lookup_ranks_exact_preferred_matches_first() -> None:
    index = LabelIndex()
    index.add("urn:a", "oil paint (paint)", "en", "pref")
    index.add("urn:b", "oil paint", "en", "alt")
    index.add("urn:c", "oil paint", "en", "pref")
    found = index.lookup("Oil paints")
    assert [c.concept for c in found] == ["urn:c", "urn:b", "urn:a"]
    # The query's singular meets the label as written: an exact match of a preferred label.
    assert found[0].match == "exact" and found[0].label_kind == "pref"
    assert found[2].match == "unqualified"


def test_lookup_any_language_and_no_match() -> None:
    index = LabelIndex()
    index.add("urn:celadon", "청자", "ko", "pref")
    index.add("urn:celadon", "celadon", "en", "pref")
    assert [c.concept for c in index.lookup("청자")] == ["urn:celadon"]
    assert index.lookup("CELADON")[0].language == "en"
    assert index.lookup("bronze") == []
    assert index.lookup("   ") == []

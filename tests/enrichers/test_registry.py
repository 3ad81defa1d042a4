"""The enricher registry: names → classes, imported only when asked for; the model card."""

from __future__ import annotations

import subprocess
import sys

import pytest

import enrich.enrichers as registry
from enrich.enrichers import ENRICHERS, EnricherUnavailable, UnknownEnricher, enricher_names, get_enricher
from enrich.enrichers.dummy import DummyEnricher


def test_known_names_build_their_enricher() -> None:
    assert {"dummy", "lexical"} <= set(enricher_names())
    enricher = get_enricher("dummy", facet="materials")
    assert isinstance(enricher, DummyEnricher) and enricher.facet == "materials"


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownEnricher, match=r"unknown enricher 'colour' \(known: ") as raised:
        get_enricher("colour")
    known = str(raised.value).split("known: ", 1)[1].rstrip(")").split(", ")
    assert known == sorted(ENRICHERS) and {"dummy", "lexical"} <= set(known)


def test_missing_library_is_a_readable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.ENRICHERS, "broken", "enrich_no_such_module.sub:Broken")
    with pytest.raises(EnricherUnavailable, match="enricher 'broken' needs enrich_no_such_module"):
        get_enricher("broken")


def test_importing_the_registry_loads_no_enricher_and_no_model_library() -> None:
    code = (
        "import sys, enrich.enrichers\n"
        "loaded = [m for m in ('torch', 'transformers', 'open_clip', 'enrich.enrichers.lexical',"
        " 'enrich.enrichers.dummy', 'enrich.vocab.facets') if m in sys.modules]\n"
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lexical_needs_indexes_or_a_store() -> None:
    with pytest.raises(TypeError, match="indexes=…, or store=… and graphs=…"):
        get_enricher("lexical")


def test_model_card_hashes_the_settings() -> None:
    first, same, other = DummyEnricher(), DummyEnricher(), DummyEnricher(concept="http://example.org/c")
    assert first.model_card() == same.model_card()
    assert first.model_card().name == "dummy" and first.model_card().version == "1"
    assert len(first.model_card().config_hash) == 16
    assert other.model_card().config_hash != first.model_card().config_hash

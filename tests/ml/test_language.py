"""Language identification (py3langid offline, script rules for Hangul/Hanja/kana, a short-text policy), the
check of declared tags, ``literal_languages``, the ``language`` enricher through a real run, and glossaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich.enrichers import enricher_class
from enrich.enrichers.base import FieldValue, RecordView, read_record_views
from enrich.ingest.errors import InputError
from enrich.jobs import RunDefinition, run_enrichment
from enrich.jobs.run import EnricherSpec
from enrich.language import identify, literal_languages, script_profile, tag_contradicted
from enrich.language.enricher import CODE_TAG, LanguageEnricher
from enrich.language.glossary import apply, bundled_glossaries, load_glossary, parse_glossary, restore
from enrich.language.scripts import HANGUL, HANJA, LATIN, MIXED, OTHER
from enrich.namespaces import DC, EDM, ENR, ORE, RDF_TYPE
from enrich.review import list_suggestions
from enrich.store.base import Store
from tests.ingest.support import GRAPHS, ingest, make_settings

SAMPLES = {
    "en": "A white porcelain jar made during the Joseon dynasty, used for storing rice wine.",
    "fr": "Une jarre en porcelaine blanche fabriquée sous la dynastie Joseon, utilisée pour conserver le vin.",
    "de": "Ein Krug aus weißem Porzellan, hergestellt während der Joseon-Dynastie, für die Aufbewahrung von Wein.",
    "nl": "Een pot van wit porselein, gemaakt tijdens de Joseon-dynastie, gebruikt om rijstwijn te bewaren.",
    "ko": "조선시대에 만들어진 백자 항아리로, 술을 담아 두는 데 쓰였다.",
    "ja": "朝鮮時代に作られた白磁の壺で、酒を入れるために使われた。",
    "zh": "这是朝鲜时代制作的白瓷罐，用来储存米酒。",  # noqa: RUF001 (Chinese punctuation)
    "la": "Vas album ex porcellana factum est, quo vinum in cella servabatur, ut antiqui scriptores narrant.",
}
#: Classical Korean as museum records write it: Hanja terms with Hangul readings and particles.
MIXED_KO = "靑磁象嵌雲鶴文梅甁 고려시대 청자 상감 운학문 매병"


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_identifies_hand_written_samples(language: str) -> None:
    found = identify(SAMPLES[language])
    assert found.language == language
    assert 0.5 <= found.confidence <= 1.0
    code, confidence = found  # unpacks as the (language, confidence) pair
    assert (code, confidence) == (found.language, found.confidence)


def test_script_shares_and_labels() -> None:
    assert script_profile("고려 청자").label == HANGUL and script_profile("고려 청자").share(HANGUL) == 1.0
    assert script_profile("靑磁象嵌").label == HANJA
    mixed = script_profile(MIXED_KO)
    assert mixed.label == MIXED and mixed.hangul == 13 and mixed.hanja == 9
    assert script_profile("Céladon incrusté").label == LATIN
    assert script_profile("Ваза из фарфора").label == OTHER
    assert script_profile("1234 — !").label == "none" and script_profile("").letters == 0


def test_mixed_hangul_hanja_is_korean_where_the_model_says_chinese() -> None:
    assert identify("靑磁象嵌雲鶴文梅甁").language == "zh"  # ideographs alone: the model's verdict stands
    found = identify(MIXED_KO)
    assert (found.language, found.script) == ("ko", MIXED) and found.confidence == pytest.approx(1.0)
    # A little Hangul among many Hanja still decides (one particle in five letters) …
    assert identify("高麗靑磁의 梅甁").language == "ko"
    # … a stray syllable in an English sentence does not.
    assert identify("Celadon maebyeong with inlaid cloud and crane design, Goryeo dynasty 고").language == "en"


def test_short_texts_get_no_verdict() -> None:
    for short in ("vase", "Jar, 18th c.", "청자", "", "1392"):
        found = identify(short)
        assert found.language is None and found.confidence == 0.0 and "too short" in found.reason
    assert identify("청자 매병").language == "ko"  # four syllables weigh enough
    assert identify("vase", min_letters=3).language is not None


def test_declared_tags_are_checked() -> None:
    korean = identify(SAMPLES["ko"])
    assert tag_contradicted("en", korean) and tag_contradicted("EN-GB", korean)
    assert not tag_contradicted("ko", korean) and not tag_contradicted("ko-Kore", korean)
    assert not tag_contradicted(None, korean) and not tag_contradicted("und", korean)
    # Hanja tagged ko (a Korean record's classical name) is not contradicted by "zh"; tagged en it is.
    hanja = identify("靑磁象嵌雲鶴文梅甁")
    assert not tag_contradicted("ko", hanja) and tag_contradicted("en", hanja)
    assert not tag_contradicted("yue", identify(SAMPLES["zh"]))
    # An unsure verdict contradicts nothing.
    assert not tag_contradicted("fr", identify(SAMPLES["en"]), threshold=1.01)


def test_literal_languages_lists_untagged_and_contradicted_literals() -> None:
    view = RecordView(
        "r1",
        "http://example.org/cho/1",
        {
            DC + "title": [
                FieldValue(SAMPLES["ko"], "en"),  # contradicted
                FieldValue(SAMPLES["en"], "en"),  # stands
                FieldValue("청자", None),  # too short for a verdict
            ],
            DC + "description": [FieldValue(MIXED_KO), FieldValue(SAMPLES["fr"], "und")],
            DC + "subject": [FieldValue("http://vocab.getty.edu/aat/300041620", is_iri=True)],
        },
    )
    found = literal_languages(view)
    assert [(f.predicate, f.value.text, f.language, f.script) for f in found] == [
        (DC + "description", MIXED_KO, "ko", MIXED),
        (DC + "description", SAMPLES["fr"], "fr", LATIN),
        (DC + "title", SAMPLES["ko"], "ko", HANGUL),
    ]
    assert all(0.5 <= f.confidence <= 1.0 for f in found)
    assert literal_languages(view, [DC + "subject"]) == []


def _record(n: int, kind: str, titles: list[str], language: str | None = None) -> list[str]:
    cho, agg, proxy = f"<http://example.org/cho/{n}>", f"<http://example.org/agg/{n}>", f"<http://example.org/p/{n}>"
    lines = [
        f"{cho} <{RDF_TYPE}> <http://www.europeana.eu/schemas/edm/ProvidedCHO> .",
        f"{agg} <{RDF_TYPE}> <{ORE}Aggregation> .",
        f"{agg} <{EDM}aggregatedCHO> {cho} .",
        f"{agg} <{EDM}isShownAt> <http://example.org/page/{n}> .",
        f'{agg} <{EDM}dataProvider> "National Museum" .',
        f'{agg} <{EDM}provider> "Example Aggregator" .',
        f"{agg} <{EDM}rights> <http://creativecommons.org/licenses/by/4.0/> .",
        # The type and the titles sit on a proxy, as aggregators deliver them: the view reads both.
        f"{proxy} <{RDF_TYPE}> <{ORE}Proxy> .",
        f"{proxy} <{ORE}proxyFor> {cho} .",
        f'{proxy} <{EDM}type> "{kind}" .',
    ]
    lines += [f'{cho} <{DC}title> "{title}" .' for title in titles]
    if language is not None:
        lines.append(f'{cho} <{DC}language> "{language}" .')
    return lines


def test_language_enricher_suggests_dc_language_for_text_records(store: Store, tmp_path: Path) -> None:
    lines = (
        _record(1, "TEXT", [MIXED_KO, "조선시대 문집, 한문과 한글로 쓴 편지 모음"])
        + _record(2, "TEXT", [SAMPLES["en"]], language="en")  # has dc:language: left alone
        + _record(3, "IMAGE", [SAMPLES["ko"]])  # not a TEXT record
        + _record(4, "TEXT", ["Jar"])  # too short to tell
        + _record(5, "TEXT", [SAMPLES["de"]])
    )
    source = tmp_path / "records.nt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest(store, [source], validate=False)

    definition = RunDefinition.of([EnricherSpec("language", {"min_confidence": "0.6"})])
    summary = run_enrichment(store, GRAPHS, definition, settings=make_settings(data_dir=str(tmp_path / "data")))
    assert summary.finished and summary.per_facet["language"].new == 2

    rows = list_suggestions(store, GRAPHS, enricher="language")
    by_cho = {row.subject.rsplit("/", 1)[-1]: row for row in rows}
    assert sorted(by_cho) == ["1", "5"]
    assert (by_cho["1"].value, by_cho["1"].language, by_cho["1"].predicate) == ("ko", CODE_TAG, DC + "language")
    assert (by_cho["5"].value, by_cho["5"].facet) == ("de", "language")
    assert 0.6 <= (by_cho["1"].confidence or 0) <= 1.0

    evidence = [
        row["e"].value
        for row in store.select(f"SELECT ?e WHERE {{ GRAPH ?g {{ <{by_cho['1'].iri}> <{ENR}evidence> ?e }} }}")
    ]
    assert len(evidence) == 2 and all(e.startswith(DC + "title") and ": ko (identified" in e for e in evidence)
    assert any("hangul-hanja script" in e for e in evidence)

    # The views the enricher saw: edm:type came from the proxy.
    views = read_record_views(store, GRAPHS, [by_cho["1"].record_id], [EDM + "type"])
    assert views[0].values[EDM + "type"] == [FieldValue("TEXT")]


def test_language_enricher_config() -> None:
    assert enricher_class("language") is LanguageEnricher
    enricher = LanguageEnricher.from_config(fields=f"{DC}title,{DC}description", min_confidence="0.7")
    assert enricher.fields == (DC + "title", DC + "description") and enricher.min_confidence == 0.7
    assert enricher.model_card().config_hash != LanguageEnricher().model_card().config_hash
    for config, problem in (
        ({"min_confidence": 2}, "must be in"),
        ({"min_confidence": "high"}, "must be numbers"),
        ({"min_letters": 0}, "at least 1"),
        ({"fields": " , "}, "at least one field"),
        ({"colour": "red"}, "unknown setting"),
    ):
        with pytest.raises(InputError, match=problem):
            LanguageEnricher.from_config(**config)
    # A declared tag that stands votes as the tag says, with full confidence.
    view = RecordView("r", "http://example.org/cho/r", {EDM + "type": [FieldValue("TEXT")]})
    tagged = RecordView("r", "c", {DC + "title": [FieldValue("Gallia est omnis divisa in partes tres", "la")]})
    assert LanguageEnricher().enrich([view]) == []
    assert LanguageEnricher().record_language(tagged) == (
        "la",
        1.0,
        [f"{DC}title 'Gallia est omnis divisa in partes tres': la (declared tag, confidence 1.00)"],
    )


def test_glossary_protects_and_restores_terms() -> None:
    assert "korean-museum" in bundled_glossaries()
    glossary = load_glossary("korean-museum")
    assert (glossary.source_language, glossary.target_language) == ("ko", "en") and len(glossary.terms) >= 30
    text, matches = apply("고려시대 청자 상감 운학문 매병. 통일신라의 금동 불상, 이를 고려하여", glossary)
    assert text == "[T0] [T1] [T2] [T3] [T4]. [T5]의 [T6] [T7], 이를 고려하여"  # 고려하여 "considering" is no term
    assert [m.target for m in matches] == [
        "Goryeo dynasty",
        "celadon",
        "inlaid",
        "cloud and crane design",
        "maebyeong (prunus vase)",
        "Unified Silla",  # the longest term wins over 신라
        "gilt bronze",
        "Buddha statue",
    ]
    assert (matches[0].start, matches[0].end, matches[0].source) == (0, 4, "고려시대")
    assert matches[1].evidence(glossary) == "glossary korean-museum: 청자 → celadon"

    translated = "[T0] [ T1 ] with [T2] [T3], a [T4]; [T5] [T6] [T9]"  # the model lost [T7] and made up [T9]
    restored, lost = restore(translated, matches)
    assert restored == (
        "Goryeo dynasty celadon with inlaid cloud and crane design, a maebyeong (prunus vase); "
        "Unified Silla gilt bronze [T9]"
    )
    assert [m.source for m in lost] == ["불상"]

    # Hanja forms, the same term twice (one placeholder), and direct replacement with spaces between terms.
    text, matches = apply("靑磁象嵌 … 青磁", glossary)
    assert text == "[T0] [T1] … [T0]" and [m.source for m in matches] == ["靑磁", "象嵌", "青磁"]
    assert apply("白磁梅甁", glossary, mode="replace")[0] == "white porcelain maebyeong (prunus vase)"
    assert apply("No Korean terms here.", glossary) == ("No Korean terms here.", [])


def test_glossary_files_are_checked(tmp_path: Path) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text(
        "name: mine\nsource_language: ko\ntarget_language: en\nterms:\n"
        "  - {source: 청자, target: celadon, aat: 'http://vocab.getty.edu/aat/300386860'}\n"
        "  - {source: [Goryeo ware], target: Goryeo celadon}\n",
        encoding="utf-8",
    )
    glossary = load_glossary(own)
    _, matches = apply("청자 and Goryeo wares or Goryeo ware", glossary)
    assert [m.source for m in matches] == ["청자", "Goryeo ware"]  # Latin terms match whole words only
    assert matches[0].aat == "http://vocab.getty.edu/aat/300386860"
    assert glossary.hash != load_glossary("korean-museum").hash

    base = {"name": "g", "source_language": "ko", "target_language": "en"}
    bad = [
        ([1, 2], "is a mapping"),
        ({**base, "name": ""}, "'name' must be"),
        ({**base, "terms": []}, "'terms' must be"),
        ({**base, "terms": [{"source": "청자"}]}, "term 1: target"),
        ({**base, "terms": [{"source": [], "target": "x"}]}, "term 1: source"),
        ({**base, "terms": [{"source": "청자", "target": "x", "aat": "300386860"}]}, "aat must be an IRI"),
        ({**base, "terms": [{"source": "청자", "target": "a"}, {"source": "청자", "target": "b"}]}, "already"),
        ({**base, "terms": [{"source": "청자", "target": "a", "colour": 1}]}, "unknown keys"),
    ]
    for data, problem in bad:
        with pytest.raises(InputError, match=problem):
            parse_glossary(data)
    with pytest.raises(InputError, match="no such glossary"):
        load_glossary("klingon-museum")
    broken = tmp_path / "broken.yaml"
    broken.write_text("terms: [unclosed", encoding="utf-8")
    with pytest.raises(InputError, match="cannot read"):
        load_glossary(broken)

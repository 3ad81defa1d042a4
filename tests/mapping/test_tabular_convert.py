"""Rows → EDM: values, lookups, links, entities, dates, and the report of rows that need attention."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode

from enrich.mapping.tabular import convert_table
from enrich.namespaces import DC, DCTERMS, EDM, RDF_TYPE, SKOS
from tests.mapping.tabular_support import (
    AAT,
    BASE_IRI,
    base_mapping,
    convert,
    fixture_materials,
    objects,
    row,
    write_table,
)

OBJECT = "https://example.org/object/"
AGGREGATION = "https://example.org/aggregation/"
MEDIUM_RULE = {
    "column": "medium",
    "property": "dcterms:medium",
    "language": "en",
    "lookup": {"facet": "materials", "split": [" on ", " and ", ","]},
}


def test_a_row_becomes_an_edm_record(tmp_path: Path) -> None:
    triples, report = convert(tmp_path, [row(1)])
    cho, aggregation = OBJECT + "1", AGGREGATION + "1"
    assert objects(triples, cho, RDF_TYPE) == [NamedNode(EDM + "ProvidedCHO")]
    assert objects(triples, cho, DC + "title") == [Literal("Object 1", language="en")]
    assert objects(triples, cho, EDM + "type") == [Literal("IMAGE")]
    assert objects(triples, aggregation, EDM + "aggregatedCHO") == [NamedNode(cho)]
    assert objects(triples, aggregation, EDM + "isShownAt") == [NamedNode("https://example.org/page/1")]
    assert objects(triples, aggregation, EDM + "rights") == [
        NamedNode("http://creativecommons.org/publicdomain/zero/1.0/")
    ]
    assert objects(triples, aggregation, EDM + "dataProvider") == [Literal("Test Museum")]
    assert objects(triples, "https://example.org/page/1", RDF_TYPE) == [NamedNode(EDM + "WebResource")]
    assert (report.rows_read, report.rows_converted, report.issues) == (1, 1, [])
    assert report.triples == len(triples)


def test_values_split_trimmed_and_nulls_dropped(tmp_path: Path) -> None:
    mapping = base_mapping(
        {"column": "subjects", "property": "dc:subject", "language": "en", "split": ";", "null_values": ["n/a"]},
        {"column": "places", "property": "dcterms:spatial", "split_regex": r"\s*[|/]\s*"},
        {"column": "notes", "property": "dc:description", "whitespace": "strip"},
    )
    rows = [row(1, subjects=" birds ;  flowers\tin  spring;;n/a ", places="Seoul | Busan/Daegu", notes="a\n  b ")]
    triples, _ = convert(tmp_path, rows, mapping)
    cho = OBJECT + "1"
    assert objects(triples, cho, DC + "subject") == [
        Literal("birds", language="en"),
        Literal("flowers in spring", language="en"),
    ]
    assert objects(triples, cho, DCTERMS + "spatial") == [Literal("Seoul"), Literal("Busan"), Literal("Daegu")]
    assert objects(triples, cho, DC + "description") == [Literal("a\n  b")]


def test_oil_on_canvas_finds_oil_and_canvas_and_keeps_the_text(tmp_path: Path) -> None:
    mapping = base_mapping(MEDIUM_RULE)
    triples, report = convert(tmp_path, [row(1, medium="Oil on Canvas")], mapping, {"materials": fixture_materials()})
    assert objects(triples, OBJECT + "1", DCTERMS + "medium") == [
        Literal("Oil on Canvas", language="en"),
        NamedNode(AAT + "300015050"),
        NamedNode(AAT + "300014078"),
    ]
    stats = report.lookups["materials"]
    assert (stats.matched, stats.ambiguous, stats.unmatched) == (2, 0, 0)
    assert report.issues == []


def test_words_split_only_as_whole_words(tmp_path: Path) -> None:
    # "on" inside "cotton" and "and" inside "sandstone" must not split them.
    mapping = base_mapping(MEDIUM_RULE)
    triples, report = convert(
        tmp_path, [row(1, medium="cotton, sandstone and watercolors")], mapping, {"materials": fixture_materials()}
    )
    assert NamedNode(AAT + "300015045") in objects(triples, OBJECT + "1", DCTERMS + "medium")
    assert report.lookups["materials"].unmatched_phrases == {"cotton": 1, "sandstone": 1}


def test_ambiguous_and_unmatched_phrases_are_reported_not_guessed(tmp_path: Path) -> None:
    mapping = base_mapping(MEDIUM_RULE)
    rows = [row(1, medium="ink on laid paper"), row(2, medium="ink and graphite")]
    triples, report = convert(tmp_path, rows, mapping, {"materials": fixture_materials()})
    first = objects(triples, OBJECT + "1", DCTERMS + "medium")
    assert first == [Literal("ink on laid paper", language="en")]  # neither the ink nor "laid paper" is guessed
    assert objects(triples, OBJECT + "2", DCTERMS + "medium")[1:] == [NamedNode(AAT + "300011098")]
    stats = report.lookups["materials"]
    assert (stats.matched, stats.ambiguous, stats.unmatched) == (1, 2, 1)
    assert stats.ambiguous_phrases == {"ink": [AAT + "300015012", "https://example.org/test/vocab/ink-colour"]}
    assert [issue.record_id for issue in report.issues] == ["1", "2"]
    assert report.issues[0].reasons == [
        "ambiguous materials phrase: 'ink' (medium) may be any of http://vocab.getty.edu/aat/300015012, "
        "https://example.org/test/vocab/ink-colour; kept as text only",
        "unmatched materials phrase: 'laid paper' (medium) names no concept",
    ]
    assert report.reason_counts == {"ambiguous materials phrase": 2, "unmatched materials phrase": 1}


def test_a_path_falls_back_to_its_broader_step(tmp_path: Path) -> None:
    rule = {"column": "material", "property": "dcterms:medium", "lookup": {"facet": "materials", "path_separator": "-"}}
    rows = [row(1, material="metal-silver"), row(2, material="wood-paulownia"), row(3, material="x-y")]
    triples, report = convert(tmp_path, rows, base_mapping(rule), {"materials": fixture_materials()})
    assert objects(triples, OBJECT + "1", DCTERMS + "medium")[1:] == [NamedNode(AAT + "300011029")]
    assert objects(triples, OBJECT + "2", DCTERMS + "medium")[1:] == [NamedNode(AAT + "300011914")]
    assert report.lookups["materials"].unmatched_phrases == {"x-y": 1}


def test_lookups_need_their_index(tmp_path: Path) -> None:
    table = write_table(tmp_path / "t.csv", [row(1, medium="oil")])
    with pytest.raises(ValueError, match="without a label index: \\['materials'\\]"):
        convert_table(table, base_mapping(MEDIUM_RULE), {})


def test_iri_templates_percent_encode_every_value(tmp_path: Path) -> None:
    mapping = base_mapping(
        {"column": "image", "property": "edm:isShownBy", "iri_template": "https://img.example/{value}"},
        iris={"cho": "{base}object/{id}", "aggregation": "{base}aggregation/{id|tail}"},
    )
    triples, report = convert(
        tmp_path, [row("본관 1/2?#x", image="../청자 매병.jpg", url="https://example.org/p")], mapping
    )
    cho = BASE_IRI + "object/%EB%B3%B8%EA%B4%80%201%2F2%3F%23x"
    aggregation = BASE_IRI + "aggregation/x"  # tail: after the last "/", ":" or "#"
    assert objects(triples, aggregation, EDM + "aggregatedCHO") == [NamedNode(cho)]
    assert objects(triples, aggregation, EDM + "isShownBy") == [
        NamedNode("https://img.example/..%2F%EC%B2%AD%EC%9E%90%20%EB%A7%A4%EB%B3%91.jpg")
    ]
    assert report.issues == []


def test_ids_that_give_one_iri_are_one_record(tmp_path: Path) -> None:
    mapping = base_mapping(iris={"cho": "{base}o/{id|tail}", "aggregation": "{base}a/{id|tail}"})
    triples, report = convert(tmp_path, [row("dept-a/17"), row("dept-b/17")], mapping)
    assert report.rows_converted == 1
    assert report.issues[0].reasons == ["duplicate record id: 'dept-b/17' gives the object IRI of row 1"]
    assert objects(triples, BASE_IRI + "o/17", DC + "title") == [Literal("Object dept-a/17", language="en")]


def test_links_that_are_not_iris_are_reported(tmp_path: Path) -> None:
    rows = [row(1, url="not a link", alt=""), row(2, url="javascript:alert(1)", alt="")]
    triples, report = convert(
        tmp_path, rows, base_mapping({"column": "alt", "property": "edm:isShownBy", "emit": "iri"})
    )
    assert report.rows_converted == 0  # no landing page, no file: no valid record
    assert [issue.reasons for issue in report.issues] == [
        [
            "invalid link: column 'url': 'not a link' gives no valid http(s) IRI",
            "not a valid EDM record: no edm:isShownAt or edm:isShownBy",
        ],
        [
            "invalid link: column 'url': 'javascript:alert(1)' gives no valid http(s) IRI",
            "not a valid EDM record: no edm:isShownAt or edm:isShownBy",
        ],
    ]
    assert all(issue.skipped for issue in report.issues) and triples == []


def test_json_columns_files_and_views(tmp_path: Path) -> None:
    rule = {"column": "images", "property": "edm:isShownBy", "emit": "iri", "json": {"field": "image_url"}}
    images = json.dumps([{"image_url": "https://img.example/1.jpg"}, {"image_url": "https://img.example/2.jpg"}, {}])
    rows = [row(1, images=images), row(2, images="[]"), row(3, images="[{oops"), row(4, images="[" * 50_000)]
    triples, report = convert(tmp_path, rows, base_mapping({**rule, "report_missing": "no image"}))
    aggregation = AGGREGATION + "1"
    assert objects(triples, aggregation, EDM + "isShownBy") == [NamedNode("https://img.example/1.jpg")]
    assert objects(triples, aggregation, EDM + "hasView") == [NamedNode("https://img.example/2.jpg")]
    assert objects(triples, "https://img.example/2.jpg", RDF_TYPE) == [NamedNode(EDM + "WebResource")]
    assert [issue.reasons for issue in report.issues] == [
        ["no image: no value in column 'images'"],
        [
            "unreadable JSON: column 'images': Expecting property name enclosed in double quotes: "
            "line 1 column 3 (char 2)",
            "no image: no value in column 'images'",
        ],
        ["unreadable JSON: column 'images' is nested too deeply", "no image: no value in column 'images'"],
    ]
    assert report.rows_converted == 4


def test_json_objects_become_agents_with_roles(tmp_path: Path) -> None:
    rule = {
        "column": "creator",
        "property": "dc:creator",
        "json": {},
        "entity": {
            "iri": "{base}agent/{artist_id|tail}",
            "label": "full_name",
            "properties": {"skos:altLabel": "cited_name", "rdaGr2:dateOfBirth": "birth_date"},
            "role": {"field": "role", "properties": {"publisher": "dc:publisher"}, "qualified": ["after"]},
        },
    }
    creators = [
        {"artist_id": "x:parties/a1", "full_name": "Mary Cassatt", "cited_name": "Cassatt, Mary", "birth_date": "1844"},
        {"artist_id": "x:parties/p1", "full_name": "Ambroise Vollard", "role": "Publisher", "cited_name": None},
        {"artist_id": "x:parties/r1", "full_name": "Raphael", "role": "after"},
        {"full_name": "Anonymous"},
        {"artist_id": "x:parties/z"},
    ]
    triples, report = convert(tmp_path, [row(1, creator=json.dumps(creators))], base_mapping(rule))
    cho, mary = OBJECT + "1", BASE_IRI + "agent/a1"
    assert objects(triples, cho, DC + "creator") == [NamedNode(mary), Literal("after Raphael"), Literal("Anonymous")]
    assert objects(triples, cho, DC + "publisher") == [NamedNode(BASE_IRI + "agent/p1")]
    assert objects(triples, mary, RDF_TYPE) == [NamedNode(EDM + "Agent")]
    assert objects(triples, mary, SKOS + "prefLabel") == [Literal("Mary Cassatt")]
    assert objects(triples, mary, SKOS + "altLabel") == [Literal("Cassatt, Mary")]
    assert objects(triples, mary, "http://rdvocab.info/ElementsGr2/dateOfBirth") == [Literal("1844")]
    assert report.issues[0].reasons == [
        "entity without id: column 'creator': 'Anonymous' gives no IRI; kept as text",
        "entity without label: column 'creator': an item has no 'full_name'",
    ]


def test_time_spans_and_dates(tmp_path: Path) -> None:
    mapping = base_mapping(
        {"column": "date", "property": "dcterms:created", "language": "en"},
        {"column": "acquired", "property": "dcterms:available", "date": True},
        {
            "property": "dcterms:created",
            "timespan": {"iri": "{base}timespan/{id}", "begin": "early", "end": "late", "label": "date"},
        },
    )
    rows = [
        row(1, date="c. 1860", early="1855-01-01", late="1865", acquired="1979-12-06"),
        row(2, date="Han dynasty", early="-0206-01-05", late="0220", acquired="1979-02-30"),
        row(3, date="1959?", early="71959-07-01", late="1950-01-01", acquired=""),
        row(4, date="", early="1900", late="1800", acquired=""),
    ]
    triples, report = convert(tmp_path, rows, mapping)
    span = BASE_IRI + "timespan/1"
    assert objects(triples, OBJECT + "1", DCTERMS + "created") == [Literal("c. 1860", language="en"), NamedNode(span)]
    assert objects(triples, span, RDF_TYPE) == [NamedNode(EDM + "TimeSpan")]
    assert objects(triples, span, SKOS + "prefLabel") == [Literal("c. 1860")]
    assert objects(triples, span, EDM + "begin") == [Literal("1855-01-01")]
    assert objects(triples, span, EDM + "end") == [Literal("1865")]
    assert objects(triples, BASE_IRI + "timespan/2", EDM + "begin") == [Literal("-0206-01-05")]
    assert objects(triples, BASE_IRI + "timespan/3", EDM + "begin") == []
    assert objects(triples, OBJECT + "2", DCTERMS + "available") == [Literal("1979-02-30")]  # kept, and reported
    assert [(issue.record_id, issue.reasons) for issue in report.issues] == [
        ("2", ["unparseable date: column 'acquired': '1979-02-30' is no ISO 8601 date; kept as text"]),
        ("3", ["unparseable date: column 'early': '71959-07-01' is no ISO 8601 date; left out"]),
        ("4", ["reversed date range: early '1900' is after late '1800'"]),
    ]


def test_constants_value_maps_edm_types_and_combined_columns(tmp_path: Path) -> None:
    mapping = base_mapping(
        {"column": "dept", "property": "dc:subject", "emit": "iri", "value_map": {"P": "https://example.org/photo"}},
        {"column": "lang", "property": "dc:language", "value_map": {"kor": "ko"}, "report_unmapped": True},
        {
            "combine": {"columns": {"height": "h", "width": "w"}, "format": "{name} {value} cm"},
            "property": "dcterms:extent",
            "null_values": ["0"],
        },
        edm_type={"column": "kind", "map": {"Book": "TEXT", "film": "VIDEO"}, "default": "IMAGE"},
        constants=[{"property": "dcterms:spatial", "value": "Pittsburgh", "language": "en"}],
    )
    rows = [
        row(1, dept="P", lang="kor", kind="BOOK ", h="10", w="0"),
        row(2, dept="https://example.org/x", lang="eng", kind="film", h="", w=""),
        row(3, dept="", lang="", kind="vase", h="1", w="2"),
    ]
    triples, report = convert(tmp_path, rows, mapping)
    assert objects(triples, OBJECT + "1", EDM + "type") == [Literal("TEXT")]
    assert objects(triples, OBJECT + "2", EDM + "type") == [Literal("VIDEO")]
    assert objects(triples, OBJECT + "3", EDM + "type") == [Literal("IMAGE")]
    assert objects(triples, OBJECT + "1", DC + "subject") == [NamedNode("https://example.org/photo")]
    assert objects(triples, OBJECT + "1", DC + "language") == [Literal("ko")]
    assert objects(triples, OBJECT + "1", DCTERMS + "extent") == [Literal("height 10 cm")]
    assert objects(triples, OBJECT + "3", DCTERMS + "extent") == [Literal("height 1 cm; width 2 cm")]
    assert objects(triples, OBJECT + "2", DCTERMS + "spatial") == [Literal("Pittsburgh", language="en")]
    assert report.issues[0].reasons == ["unmapped value: lang 'eng' is not in value_map; kept as written"]


def test_rows_that_cannot_be_records_are_skipped_and_reported(tmp_path: Path) -> None:
    mapping = base_mapping(edm_type={"column": "kind", "map": {"vase": "IMAGE"}})
    rows = [
        row(1, kind="vase"),
        row("", kind="vase"),
        row(1, kind="vase", title="Again"),
        row(3, kind="sculpture"),
        row(4, kind="vase", title="", type=""),
        row(5, kind="vase", title=""),
    ]
    triples, report = convert(tmp_path, rows, mapping)
    assert report.rows_read == 6 and report.rows_converted == 1 and report.rows_skipped == 5
    assert [(i.row, i.line, i.record_id, i.skipped, i.reasons[-1]) for i in report.issues] == [
        (2, 3, None, True, "no record id: column 'id' is empty"),
        (3, 4, "1", True, "duplicate record id: '1' gives the object IRI of row 1"),
        (4, 5, "3", True, "no EDM type: kind 'sculpture' is not in edm_type.map and there is no default"),
        (
            5,
            6,
            "4",
            True,
            "not a valid EDM record: no dc:title or dc:description; "
            "no dc:subject, dc:type, dcterms:spatial or dcterms:temporal",
        ),
        (6, 7, "5", True, "not a valid EDM record: no dc:title or dc:description"),
    ]
    assert report.issues[3].reasons[0] == "missing title: no value in column 'title'"
    assert {str(t.subject) for t in triples} >= {f"<{OBJECT}1>"}
    assert not any("Again" in str(t.object) for t in triples)


def test_a_missing_value_can_be_devised_and_is_reported(tmp_path: Path) -> None:
    mapping = base_mapping(
        {"column": "title2", "property": "dc:description", "if_empty": "[{type}, {id}]", "report_missing": "no text"}
    )
    triples, report = convert(tmp_path, [row(7, title="", title2="")], mapping)
    assert objects(triples, OBJECT + "7", DC + "description") == [Literal("[bowl, 7]")]
    assert report.issues[0].reasons == [
        "missing title: no value in column 'title'",
        "no text: no value in column 'title2'; used '[bowl, 7]'",
    ]


def test_the_report_as_json(tmp_path: Path) -> None:
    mapping = base_mapping(MEDIUM_RULE)
    _, report = convert(
        tmp_path, [row(1, medium="oil on vellum"), row("")], mapping, {"materials": fixture_materials()}
    )
    path = tmp_path / "report.json"
    report.write(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["rows_read"] == 2 and data["rows_converted"] == 1 and data["rows_skipped"] == 1
    assert data["reasons"] == {"unmatched materials phrase": 1, "no record id": 1}
    assert data["lookups"]["materials"] == {
        "matched": 1,
        "ambiguous": 0,
        "unmatched": 1,
        "unmatched_phrases": {"vellum": 1},
        "ambiguous_phrases": {},
    }
    assert data["rows"][0]["cho"] == OBJECT + "1" and data["rows"][1]["skipped"] is True
    assert "2 row(s), 1 converted, 1 skipped, 2 need attention" in report.summary()

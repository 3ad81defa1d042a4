"""Mapping files: the bundled ones load, and every mistake is reported with the key path that holds it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from enrich.ingest.errors import InputError
from enrich.mapping.tabular_spec import (
    MappingError,
    Template,
    find_mapping,
    load_mapping,
    parse_mapping,
    required_facets,
)
from enrich.namespaces import DC, DCTERMS
from tests.mapping.tabular_support import MAPPINGS

CMOA_YAML = MAPPINGS / "sources" / "cmoa.yaml"
KOREAN_YAML = MAPPINGS / "sources" / "korean-museum.yaml"


def cmoa_data() -> dict[str, Any]:
    data = yaml.safe_load(CMOA_YAML.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def rule_index(data: dict[str, Any], column: str) -> int:
    return next(i for i, rule in enumerate(data["fields"]) if rule.get("column") == column)


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(MappingError) as caught:
        parse_mapping(data, "m.yaml")
    return caught.value.problems


def test_bundled_mappings_load() -> None:
    cmoa = load_mapping(CMOA_YAML)
    assert cmoa.source == "cmoa"
    assert required_facets(cmoa) == {"materials"}
    assert cmoa.fields[0].property == DC + "title"
    assert "medium" in cmoa.columns and "image_url" not in cmoa.columns
    korean = load_mapping(KOREAN_YAML)
    assert required_facets(korean) == {"korean-periods", "korean-materials", "korean-lifestyle"}
    assert any(rule.property == DCTERMS + "temporal" for rule in korean.fields)


def test_mappings_by_name_or_path(tmp_path: Path) -> None:
    assert find_mapping("cmoa") == CMOA_YAML
    assert find_mapping(str(KOREAN_YAML)) == KOREAN_YAML
    with pytest.raises(InputError, match="no bundled mapping of that name") as caught:
        find_mapping("louvre")
    assert "cmoa" in caught.value.problem and "korean-museum" in caught.value.problem
    with pytest.raises(InputError):
        find_mapping("../sources/cmoa")


def edit(path: str, value: Any) -> dict[str, Any]:
    """The CMOA mapping with one key set (``fields[medium].lookup.facet``); value None deletes it."""
    data = copy.deepcopy(cmoa_data())
    node: Any = data
    steps = path.replace("]", "").replace("[", ".").split(".")
    for step in steps[:-1]:
        node = node[rule_index(data, step)] if isinstance(node, list) else node.setdefault(step, {})
    if value is None:
        del node[steps[-1]]
    else:
        node[steps[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("fields[medium].lookup.facet", None, "fields[3] (column medium).lookup.facet: Field required"),
        ("fields[title].property", "dx:title", "fields[0] (column title).property: unknown prefix 'dx'"),
        ("fields[title].property", "title", "fields[0] (column title).property: 'title' is not a property name"),
        ("fields[title].language", "english!", "fields[0] (column title).language: 'english!' is not a BCP 47"),
        ("fields[title].colour", "red", "fields[0] (column title).colour: Extra inputs are not permitted"),
        ("fields[title].pattern", "(unclosed", "fields[0] (column title).pattern: "),
        ("fields[title].pattern", "^(.*)$", "fields[0] (column title): pattern needs a group named value"),
        ("fields[title].split_regex", ";", None),
        ("fields[title].split", ",", None),
        ("fields[medium].lookup.split_regex", "[", "fields[3] (column medium).lookup.split_regex: "),
        ("fields[web_url].language", "en", "fields[7] (column web_url): a link (emit: iri or iri_template) takes no"),
        ("fields[images].json", None, None),
        ("fields[creator].json", None, "fields[6] (column creator): entity needs json"),
        (
            "fields[creator].entity.iri",
            "{base}agent/{artist_id|slug}",
            "fields[6] (column creator).entity.iri: unknown filter",
        ),
        (
            "fields[creator].entity.properties",
            {"rdaGr3:x": "y"},
            "fields[6] (column creator).entity.properties.rdaGr3:x",
        ),
        ("iris.cho", "urn:x:{id}", "iris.cho: 'urn:x:{id}' must give an http(s) IRI"),
        ("iris.aggregation", "{base}agg/{id", "iris.aggregation: unbalanced braces"),
        ("rights", "CC0", "rights: 'CC0' is not an absolute IRI"),
        ("edm_type.default", "PICTURE", "edm_type.default: Input should be 'TEXT', 'IMAGE', 'SOUND', 'VIDEO' or '3D'"),
        ("edm_type.value", "IMAGE", "edm_type: give either value"),
        ("csv.encoding", "utf-16", "csv.encoding: encoding 'utf-16' is not ASCII-compatible"),
        ("csv.encoding", "klingon", "csv.encoding: unknown encoding 'klingon'"),
        ("csv.delimiter", ";;", "csv.delimiter: must be exactly one character"),
        ("source", "CMOA Collection", "source: String should match pattern"),
        ("id_column", None, "id_column: Field required"),
    ],
)
def test_errors_name_the_key_path(path: str, value: Any, expected: str | None) -> None:
    data = edit(path, value)
    if expected is None:
        parse_mapping(data, "m.yaml")  # a valid variant
        return
    found = problems(data)
    assert any(problem.startswith(expected) for problem in found), found


def test_every_problem_is_listed_and_the_error_is_an_input_error() -> None:
    data = edit("rights", "CC0")
    data["fields"][0]["property"] = "nope:title"
    with pytest.raises(InputError) as caught:
        parse_mapping(data, "m.yaml")
    message = str(caught.value)
    assert message.startswith("m.yaml: invalid mapping:\n")
    assert "rights: 'CC0'" in message and "fields[0] (column title).property" in message


def test_rules_that_contradict_themselves() -> None:
    data = cmoa_data()
    first = len(data["fields"])
    data["fields"].append({"property": "dc:subject"})
    data["fields"].append({"property": "dc:subject", "column": "a", "combine": {"columns": {"x": "b"}}})
    data["fields"].append({"property": "dc:subject", "column": "a", "split": ";", "split_regex": ";"})
    data["fields"].append({"property": "dc:subject", "column": "a", "iri_template": "https://x/{id}"})
    data["fields"].append({"property": "edm:isShownBy", "column": "a", "emit": "iri", "if_empty": "none"})
    assert problems(data) == [
        f"fields[{first}]: give exactly one of column, timespan or combine",
        f"fields[{first + 1}] (column a): give exactly one of column, timespan or combine",
        f"fields[{first + 2}] (column a): give split or split_regex, not both",
        f"fields[{first + 3}] (column a): iri_template needs a {{value}} placeholder",
        f"fields[{first + 4}] (column a): if_empty gives a text, and this rule emits links",
    ]


def test_files_that_are_not_mappings(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("source: cmoa\nfields: [\n  - column: x\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"broken.yaml: invalid mapping: line \d+: not valid YAML"):
        load_mapping(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(MappingError, match="at the top level"):
        load_mapping(listing)
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("source: caf\xe9\n".encode("latin-1"))
    with pytest.raises(MappingError, match="not UTF-8"):
        load_mapping(latin1)
    with pytest.raises(InputError, match="cannot read the mapping"):
        load_mapping(tmp_path / "missing.yaml")
    huge = tmp_path / "huge.yaml"
    huge.write_text("# " + "x" * (1024 * 1024) + "\n", encoding="utf-8")
    with pytest.raises(MappingError, match="more than a mapping may have"):
        load_mapping(huge)


def test_yaml_tags_are_not_constructed(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text("source: !!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(hostile)


def test_templates_percent_encode_values_but_not_the_base() -> None:
    template = Template.parse("{base}object/{id}")
    rendered = template.render({"base": "https://x.example/", "id": "a/b c?d#e%"}, encode=True)
    assert rendered == "https://x.example/object/a%2Fb%20c%3Fd%23e%25"
    assert Template.parse("{base}o/{id|tail}").render({"base": "https://x/", "id": "cmoa:things/0a-1b"}, True) == (
        "https://x/o/0a-1b"
    )
    assert template.render({"base": "https://x/", "id": ""}, encode=True) is None
    assert Template.parse("[{a}, {b}]").render({"a": "x y", "b": "1/2"}, encode=False) == "[x y, 1/2]"

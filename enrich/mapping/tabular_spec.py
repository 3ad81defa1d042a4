"""The declarative mapping of one museum's table export to EDM, read from YAML and checked on load.

A mapping names the CSV dialect, the column that identifies a record, IRI templates, the fixed values
every record carries (provider, data provider, rights, EDM type) and one rule per target property. The
converter in :mod:`enrich.mapping.tabular` only reads these models; every problem a mapping can have
on its own is found here, with the key path that holds it (``fields[3].lookup.facet: …``).

IRI templates hold ``{name}`` placeholders: ``{base}`` (the service's base IRI, inserted as is),
``{id}`` (the record id) and column names, or fields of a JSON object for entities; every value is
percent-encoded, so a value can never add a path segment, a query or a fragment of its own.
``{name|tail}`` keeps only what follows the last ``/``, ``:`` or ``#`` (``cmoa:things/0a1b`` → ``0a1b``).
"""

from __future__ import annotations

import builtins
import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import quote

import pyoxigraph
import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from enrich.ingest.errors import InputError
from enrich.namespaces import DC, DCTERMS, EDM, ORE, RDF, RDFS, SKOS
from enrich.resources import data_dir

#: The prefixes a mapping may use in property names (a fixed table: mappings stay readable and checkable).
PREFIXES: dict[str, str] = {
    "dc": DC,
    "dcterms": DCTERMS,
    "edm": EDM,
    "ore": ORE,
    "skos": SKOS,
    "rdf": RDF,
    "rdfs": RDFS,
    "rdaGr2": "http://rdvocab.info/ElementsGr2/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "wgs84_pos": "http://www.w3.org/2003/01/geo/wgs84_pos#",
}
EdmType = Literal["TEXT", "IMAGE", "SOUND", "VIDEO", "3D"]
#: Mapping files are small; anything larger is refused before YAML parsing.
MAX_MAPPING_BYTES = 1024 * 1024

_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9]*):([A-Za-z_][A-Za-z0-9_.-]*)$")
_PLACEHOLDER = re.compile(r"\{([^{}|]+)(?:\|([^{}]*))?\}")
_FILTERS = frozenset({"tail"})
_TAIL = re.compile(r"[/:#]")


class MappingError(InputError):
    """A mapping file cannot be read or breaks the mapping rules; every problem names its key path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        if len(problems) == 1:
            super().__init__(source, f"invalid mapping: {problems[0]}")
        else:
            super().__init__(source, "invalid mapping:" + "".join(f"\n  {problem}" for problem in problems))


# -- value checks used by the models -------------------------------------------------------------------
def expand_curie(value: str) -> str:
    """``dc:title`` → the property IRI; only the prefixes of :data:`PREFIXES`."""
    match = _CURIE.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a property name like dc:title (prefix, colon, local name)")
    prefix, local = match.groups()
    if prefix not in PREFIXES:
        raise ValueError(f"unknown prefix {prefix!r} in {value!r} (known: {', '.join(sorted(PREFIXES))})")
    return PREFIXES[prefix] + local


def _language_tag(value: str) -> str:
    try:
        pyoxigraph.Literal("x", language=value)
    except ValueError:
        raise ValueError(f"{value!r} is not a BCP 47 language tag (e.g. en, ko, ko-Hani)") from None
    return value


def _absolute_iri(value: str) -> str:
    try:
        pyoxigraph.NamedNode(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an absolute IRI") from None
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"{value!r} is not an http(s) IRI")
    return value


def _encoding(value: str) -> str:
    try:
        codec = codecs.lookup(value)
    except LookupError:
        raise ValueError(f"unknown encoding {value!r}") from None
    # Rows are decoded a line at a time, which needs "\n" to be the byte 0x0A (UTF-16/32 are refused).
    if "\n".encode(codec.name) != b"\n":
        raise ValueError(f"encoding {value!r} is not ASCII-compatible; convert the file to UTF-8")
    return codec.name


def _one_character(value: str) -> str:
    if len(value) != 1 or value in "\r\n":
        raise ValueError("must be exactly one character, not a line break")
    return value


@dataclass(frozen=True)
class Template:
    """A text with ``{name}`` / ``{name|tail}`` placeholders, parsed once."""

    text: str
    parts: tuple[str | tuple[str, bool], ...]  # literal text, or (name, tail?)

    @classmethod
    def parse(cls, value: object) -> Template:
        if isinstance(value, Template):
            return value
        if not isinstance(value, str) or not value:
            raise ValueError("must be a non-empty text")
        parts: list[str | tuple[str, bool]] = []
        position = 0
        for match in _PLACEHOLDER.finditer(value):
            parts.append(value[position : match.start()])
            name, flt = match.group(1).strip(), match.group(2)
            if flt is not None and flt.strip() not in _FILTERS:
                raise ValueError(f"unknown filter {flt!r} in {{{match.group(0)[1:-1]}}} (known: tail)")
            parts.append((name, flt is not None))
            position = match.end()
        parts.append(value[position:])
        if any(isinstance(part, str) and ("{" in part or "}" in part) for part in parts):
            raise ValueError(f"unbalanced braces in {value!r}")
        return cls(value, tuple(part for part in parts if part != ""))

    @property
    def names(self) -> frozenset[str]:
        return frozenset(part[0] for part in self.parts if isinstance(part, tuple))

    def render(self, values: Mapping[str, str | None], encode: bool) -> str | None:
        """The filled text, or None when a placeholder has no value. ``{base}`` is never encoded."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            name, tail = part
            value = values.get(name)
            if value is None or value == "":
                return None
            if tail:
                value = _TAIL.split(value.rstrip("/:#"))[-1]
            out.append(quote(value, safe="") if encode and name != "base" else value)
        return "".join(out)


def _iri_template(value: object) -> Template:
    template = Template.parse(value)
    sample = template.render(dict.fromkeys(template.names, "x") | {"base": "https://example.org/"}, encode=True)
    if sample is None or not sample.startswith(("http://", "https://")):
        raise ValueError(f"{template.text!r} must give an http(s) IRI (start with http://, https:// or {{base}})")
    return template


Property = Annotated[str, AfterValidator(expand_curie)]
LanguageTag = Annotated[str, AfterValidator(_language_tag)]
IriTemplate = Annotated[Template, BeforeValidator(_iri_template)]
TextTemplate = Annotated[Template, BeforeValidator(Template.parse)]
HttpIri = Annotated[str, AfterValidator(_absolute_iri)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, populate_by_name=True)


# -- the models --------------------------------------------------------------------------------------------
class CsvDialect(_Model):
    #: A byte order mark at the start of the file is dropped whatever the encoding.
    encoding: Annotated[str, AfterValidator(_encoding)] = "utf-8"
    delimiter: Annotated[str, AfterValidator(_one_character)] = ","
    quotechar: Annotated[str, AfterValidator(_one_character)] = '"'


class Iris(_Model):
    cho: IriTemplate
    aggregation: IriTemplate


class EdmTypeRule(_Model):
    """One fixed EDM type, or a column whose values map to types (compared case-insensitively)."""

    value: EdmType | None = None
    column: str | None = None
    map: dict[str, EdmType] = Field(default_factory=dict)
    default: EdmType | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.value is None) == (self.column is None):
            raise ValueError("give either value (one EDM type for every record) or column (with map/default)")
        if self.column is not None and not self.map and self.default is None:
            raise ValueError("a column needs a map, a default or both")
        return self

    @cached_property
    def folded_map(self) -> dict[str, str]:
        return {key.strip().casefold(): value for key, value in self.map.items()}


class Constant(_Model):
    """A fixed statement on every record's object (or aggregation, for aggregation properties)."""

    property: Property
    value: str | None = None
    iri: HttpIri | None = None
    language: LanguageTag | None = None

    @model_validator(mode="after")
    def _one_value(self) -> Self:
        if (self.value is None) == (self.iri is None):
            raise ValueError("give either value (a text) or iri")
        if self.iri is not None and self.language is not None:
            raise ValueError("a link (iri) takes no language")
        return self


class JsonCells(_Model):
    """The cell holds a JSON list; ``field`` picks one field of each object (else the items themselves)."""

    field: str | None = None


class Lookup(_Model):
    """Free text → vocabulary concepts through the label index of a facet."""

    facet: str = Field(min_length=1)
    #: Separators between phrases; a word (``on``, ``and``) only matches as a whole word.
    split: list[str] = Field(default_factory=list)
    split_regex: re.Pattern[str] | None = None
    #: The phrase is a path (``도자기-청자``): the last step is looked up, then earlier ones.
    path_separator: str | None = None
    #: Where the concepts go (default: the rule's own property).
    property: Property | None = None

    @cached_property
    def splitter(self) -> re.Pattern[str] | None:
        if self.split_regex is not None:
            return self.split_regex
        if not self.split:
            return None
        alternatives = []
        for separator in sorted(self.split, key=len, reverse=True):
            word = separator.strip()
            if word and re.fullmatch(r"\w+", word):
                alternatives.append(rf"\b{re.escape(word)}\b")
            elif separator:
                alternatives.append(re.escape(separator))
        return re.compile("|".join(alternatives), re.IGNORECASE)


class Role(_Model):
    """How an entity's role (a field of its JSON object) changes the link: ``publisher`` →
    ``dc:publisher``; a qualified attribution (``after``, ``circle of``) names no creator, so it becomes
    a text (``after Raphael``) instead of a link to the agent."""

    field: str
    properties: dict[str, Property] = Field(default_factory=dict)
    qualified: list[str] = Field(default_factory=list)

    @cached_property
    def folded_properties(self) -> dict[str, str]:
        return {role.casefold(): prop for role, prop in self.properties.items()}

    @cached_property
    def folded_qualified(self) -> frozenset[str]:
        return frozenset(role.casefold() for role in self.qualified)


class Entity(_Model):
    """Each JSON object of the cell becomes a contextual entity (an ``edm:Agent``, say) linked from the
    object; fields of the object fill the IRI template, the label and further properties."""

    type: Property = EDM + "Agent"
    iri: IriTemplate
    label: str
    language: LanguageTag | None = None
    properties: dict[Property, str] = Field(default_factory=dict)
    role: Role | None = None


class TimeSpan(_Model):
    """An ``edm:TimeSpan`` from begin/end columns (ISO 8601 dates, ``-`` for BCE) and a label column."""

    iri: IriTemplate
    begin: str | None = None
    end: str | None = None
    label: str | None = None
    language: LanguageTag | None = None

    @model_validator(mode="after")
    def _has_dates(self) -> Self:
        if self.begin is None and self.end is None:
            raise ValueError("a time span needs a begin or an end column")
        return self


class Combine(_Model):
    """One literal from several columns: each non-empty ``name: column`` through ``format``, joined."""

    columns: dict[str, str] = Field(min_length=1)
    format: TextTemplate = Template.parse("{name} {value}")
    separator: str = "; "


class FieldRule(_Model):
    """Where the values of one column (or a time span, or a combination of columns) go."""

    property: Property
    column: str | None = None
    timespan: TimeSpan | None = None
    combine: Combine | None = None
    language: LanguageTag | None = None
    #: ``iri`` emits each value as a link (validated); ``iri_template`` builds the link from ``{value}``.
    emit: Literal["literal", "iri"] = "literal"
    iri_template: IriTemplate | None = None
    whitespace: Literal["strip", "collapse"] = "collapse"
    null_values: list[str] = Field(default_factory=list)
    split: str | None = None
    split_regex: re.Pattern[str] | None = None
    #: A regular expression with a group named ``value``: the part of the cell to keep.
    pattern: re.Pattern[str] | None = None
    json_cells: JsonCells | None = Field(default=None, alias="json")
    entity: Entity | None = None
    value_map: dict[str, str] = Field(default_factory=dict)
    report_unmapped: bool = False
    date: bool = False
    lookup: Lookup | None = None
    #: Text (with ``{column}`` placeholders) used when the rule gives no value; say so in report_missing.
    if_empty: TextTemplate | None = None
    #: The reason reported for a row where this rule gives no value of its own ("missing title").
    report_missing: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        sources = [name for name in ("column", "timespan", "combine") if getattr(self, name) is not None]
        if len(sources) != 1:
            raise ValueError("give exactly one of column, timespan or combine")
        if self.pattern is not None and "value" not in self.pattern.groupindex:
            raise ValueError("pattern needs a group named value: (?P<value>…)")
        if self.split is not None and self.split_regex is not None:
            raise ValueError("give split or split_regex, not both")
        if self.entity is not None and self.json_cells is None:
            raise ValueError("entity needs json: the cell must hold a JSON list of objects")
        if self.entity is not None and self.json_cells is not None and self.json_cells.field is not None:
            raise ValueError("entity reads whole JSON objects: leave json.field out")
        linked = self.emit == "iri" or self.iri_template is not None
        if linked and self.language is not None:
            raise ValueError("a link (emit: iri or iri_template) takes no language")
        if linked and self.if_empty is not None:
            raise ValueError("if_empty gives a text, and this rule emits links")
        if linked and self.lookup is not None:
            raise ValueError("lookup works on text values, not on links")
        if self.iri_template is not None and "value" not in self.iri_template.names:
            raise ValueError("iri_template needs a {value} placeholder")
        return self

    @builtins.property  # the field named property shadows the builtin here
    def linked(self) -> bool:
        return self.emit == "iri" or self.iri_template is not None

    @builtins.property  # the field named property shadows the builtin here
    def columns(self) -> set[str]:
        """Columns of the table this rule reads."""
        names: set[str] = set()
        if self.column is not None:
            names.add(self.column)
        if self.timespan is not None:
            names |= {c for c in (self.timespan.begin, self.timespan.end, self.timespan.label) if c is not None}
        if self.combine is not None:
            names |= set(self.combine.columns.values())
        if self.if_empty is not None:
            names |= self.if_empty.names
        return names


class TabularMapping(_Model):
    """A source's table export → EDM."""

    source: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str | None = None
    csv: CsvDialect = CsvDialect()
    id_column: str
    iris: Iris
    provider: str = Field(min_length=1)
    data_provider: str = Field(min_length=1)
    rights: HttpIri
    edm_type: EdmTypeRule
    constants: list[Constant] = Field(default_factory=list)
    fields: list[FieldRule] = Field(min_length=1)

    @property
    def columns(self) -> set[str]:
        """Every column the mapping reads (the table must have them all)."""
        names = {self.id_column}
        if self.edm_type.column is not None:
            names.add(self.edm_type.column)
        for rule in self.fields:
            names |= rule.columns
        for template in (self.iris.cho, self.iris.aggregation, *(r.timespan.iri for r in self.fields if r.timespan)):
            names |= template.names
        return names - {"base", "id"}


def required_facets(mapping: TabularMapping) -> set[str]:
    """The facets whose label indexes :func:`enrich.mapping.tabular.convert_table` needs."""
    return {rule.lookup.facet for rule in mapping.fields if rule.lookup is not None}


def find_mapping(name: str) -> Path:
    """A mapping file by path, or by the name of one shipped in ``mappings/sources/`` (``cmoa``)."""
    path = Path(name)
    if path.is_file():
        return path
    sources = data_dir("mappings") / "sources"
    bundled = sources / f"{name}.yaml"
    if path.name == name and bundled.is_file():
        return bundled
    known = ", ".join(sorted(p.stem for p in sources.glob("*.yaml")))
    raise InputError(name, f"no such mapping file, and no bundled mapping of that name (bundled: {known})")


def parse_mapping(data: Any, source: str) -> TabularMapping:
    """Validate already-parsed YAML; errors name each problem's key path."""
    if not isinstance(data, dict):
        raise MappingError(source, ["the file must hold a mapping (key: value pairs) at the top level"])
    try:
        return TabularMapping.model_validate(data)
    except ValidationError as exc:
        raise MappingError(source, [_describe(error, data) for error in exc.errors()]) from None


def load_mapping(path: Path) -> TabularMapping:
    """Read and check a mapping file (YAML, safe loader)."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_MAPPING_BYTES:
            raise MappingError(source, [f"{size:,} bytes, more than a mapping may have ({MAX_MAPPING_BYTES:,})"])
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(source, f"cannot read the mapping: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise MappingError(source, [f"not UTF-8 text (byte {exc.start})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise MappingError(source, [f"{where}not valid YAML: {getattr(exc, 'problem', None) or exc}"]) from None
    return parse_mapping(data, source)


def _describe(error: Any, data: dict[str, Any]) -> str:
    """``fields[3] (column medium).lookup.facet: Field required``."""
    path = ""
    node: Any = data
    for step in error["loc"]:
        if isinstance(step, int):
            path += f"[{step}]"
            node = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("column"), str):
                path += f" (column {node['column']})"
        else:
            path += f".{step}" if path else str(step)
            node = node.get(step) if isinstance(node, dict) else None
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{path or 'mapping'}: {message}"

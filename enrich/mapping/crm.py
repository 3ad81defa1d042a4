"""CIDOC-CRM (and Linked Art) <-> EDM, through the SPARQL CONSTRUCT mappings in ``mappings/crm/``.

``convert`` turns a document's CIDOC-CRM triples into one EDM record per E22 Human-Made Object, keeping
with each the CRM triples that describe it; ``edm_to_crm`` maps an EDM record back to CIDOC-CRM in
Linked Art's shape (``crm_turtle`` and ``linked_art.to_linked_art`` write it out).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import IO, Final, TypeAlias

import pyoxigraph
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Triple, Variable

from enrich.mapping import linked_art
from enrich.namespaces import DC, RDF_TYPE, RDFS, XSD, Graphs
from enrich.resources import data_dir
from enrich.store.base import Store

CRM: Final = "http://www.cidoc-crm.org/cidoc-crm/"
#: The namespace of the CRM's early RDFS encodings (up to 5.0.x), which Europeana's edm.owl aligns to.
OBSOLETE_CRM: Final = "http://www.cidoc-crm.org/rdfs/cidoc-crm#"
HUMAN_MADE_OBJECT: Final = CRM + "E22_Human-Made_Object"
# Classes renamed since the versions published under the obsolete namespace (CRM 7 says "Human-Made").
_RENAMED: Final = {
    "E22_Man-Made_Object": "E22_Human-Made_Object",
    "E24_Physical_Man-Made_Thing": "E24_Physical_Human-Made_Thing",
    "E25_Man-Made_Feature": "E25_Human-Made_Feature",
    "E71_Man-Made_Thing": "E71_Human-Made_Thing",
    "E78_Collection": "E78_Curated_Holding",
}
TURTLE_PREFIXES: Final = {
    "crm": CRM,
    "la": "https://linked.art/ns/terms/",
    "dig": "http://www.ics.forth.gr/isl/CRMdig/",
    "aat": "http://vocab.getty.edu/aat/",
    "rdfs": RDFS,
    "dc": DC,
    "xsd": XSD,
}
#: Values for a query's variables (SEP-0007 substitutions), as pyoxigraph takes them.
Bindings: TypeAlias = dict[Variable, NamedNode | BlankNode | Literal | Triple]


class CrmError(ValueError):
    """CIDOC-CRM input that cannot become EDM records (the message names the node)."""


@dataclass(frozen=True)
class CrmOptions:
    """What EDM asks of an aggregation and CIDOC-CRM data seldom says; ``None`` leaves it out.

    ``provider`` names every record's provider; ``data_provider`` is used when an object has no current
    keeper or owner with a name; ``rights`` (a rights statement IRI) when none is stated. A name that is
    an http(s) IRI is written as an IRI, any other as a literal.
    """

    provider: str | None = None
    data_provider: str | None = None
    rights: str | None = None

    def __post_init__(self) -> None:
        if self.rights is not None and not _is_web_iri(self.rights):
            raise ValueError(f"rights must be a rights statement IRI (http:// or https://), not {self.rights!r}")

    def substitutions(self) -> Bindings:
        values: Bindings = {}
        for name, value in (
            ("providerOption", self.provider),
            ("dataProviderOption", self.data_provider),
            ("rightsOption", self.rights),
        ):
            if value is not None:
                values[Variable(name)] = NamedNode(value) if _is_web_iri(value) else Literal(value)
        return values


@dataclass
class CrmObject:
    """One converted object: its IRI, its EDM record and its CRM description, as N-Triples lines."""

    iri: str
    edm: list[str]
    crm: list[str]


def _is_web_iri(value: str) -> bool:
    if not value.startswith(("http://", "https://")):
        return False
    try:
        NamedNode(value)
    except ValueError:
        return False
    return True


@cache
def mapping_query(name: str) -> str:
    """The text of ``mappings/crm/{name}.rq``."""
    return (data_dir("mappings") / "crm" / f"{name}.rq").read_text(encoding="utf-8")


def parse(
    source: bytes | IO[bytes], rdf_format: RdfFormat, base_iri: str | None = None, lenient: bool = False
) -> list[Triple]:
    """A CIDOC-CRM document's triples (graph names dropped); JSON-LD with Linked Art's context resolved offline."""
    if rdf_format == RdfFormat.JSON_LD:
        data = source if isinstance(source, bytes) else source.read()
        return list(linked_art.parse(data, base_iri, lenient))
    return [
        quad.triple
        for quad in pyoxigraph.parse(source, rdf_format, base_iri=base_iri, rename_blank_nodes=True, lenient=lenient)
    ]


def _normalised(node: NamedNode) -> NamedNode:
    value = node.value
    if value.startswith(OBSOLETE_CRM):
        local = value[len(OBSOLETE_CRM) :]
    elif value.startswith(CRM):
        local = value[len(CRM) :]
        if local not in _RENAMED:
            return node
    else:
        return node
    return NamedNode(CRM + _RENAMED.get(local, local))


def normalise(triples: Iterable[Triple]) -> list[Triple]:
    """The triples in the current CRM namespace, with the classes renamed since the obsolete one."""
    out = []
    for triple in triples:
        subject, predicate, obj = triple.subject, triple.predicate, triple.object
        if "cidoc-crm" in predicate.value or (isinstance(obj, NamedNode) and "cidoc-crm" in obj.value):
            predicate = _normalised(predicate)
            if isinstance(obj, NamedNode):
                obj = _normalised(obj)
            if isinstance(subject, NamedNode):
                subject = _normalised(subject)
            triple = Triple(subject, predicate, obj)
        out.append(triple)
    return out


def _store_of(triples: Iterable[Triple]) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.extend(Quad(t.subject, t.predicate, t.object) for t in triples)
    return store


def _construct(store: pyoxigraph.Store, mapping: str, substitutions: Bindings | None = None) -> list[Triple]:
    """The triples a mapping's CONSTRUCT gives over ``store``, each once."""
    result = store.query(mapping_query(mapping), substitutions=substitutions)
    assert isinstance(result, pyoxigraph.QueryTriples)
    return list(dict.fromkeys(result))


def human_made_objects(triples: Iterable[Triple]) -> list[NamedNode | BlankNode]:
    """The E22 Human-Made Objects among (normalised) triples, in the order first typed."""
    found: dict[NamedNode | BlankNode, None] = {}
    for triple in triples:
        if (
            triple.predicate.value == RDF_TYPE
            and isinstance(triple.object, NamedNode)
            and triple.object.value == HUMAN_MADE_OBJECT
            and isinstance(triple.subject, NamedNode | BlankNode)
        ):
            found[triple.subject] = None
    return list(found)


def convert(triples: Iterable[Triple], options: CrmOptions | None = None) -> list[CrmObject]:
    """One EDM record per E22 Human-Made Object of a CIDOC-CRM document, with the CRM that describes it.

    An object's CRM description is the object, what links straight to it (a production that
    ``P108 has produced`` it), and everything those nodes lead to, except other objects: a link to
    another object is kept, that object's description is not. The EDM record is cut the same way out of
    the mapping's output (aggregation, web resources, contextual entities).
    """
    crm_triples = list(dict.fromkeys(normalise(triples)))  # JSON-LD repeats nodes described in several places
    objects = human_made_objects(crm_triples)
    for node in objects:
        if isinstance(node, BlankNode):
            raise CrmError(
                "a crm:E22_Human-Made_Object is a blank node; records need an IRI (rdf:about, or Linked Art's id)"
            )
    if not objects:
        return []
    store = _store_of(crm_triples)
    edm = _construct(store, "crm-to-edm", (options or CrmOptions()).substitutions())
    roots = set(objects)
    crm_parts = _Graph(crm_triples, roots)
    edm_parts = _Graph(edm, roots)
    return [
        CrmObject(node.value, _lines(edm_parts.description(node)), _lines(crm_parts.description(node)))
        for node in objects
        if isinstance(node, NamedNode)
    ]


class _Graph:
    """Triples indexed for cutting out the description of each of several top-level objects (``roots``)."""

    def __init__(self, triples: Iterable[Triple], roots: set[NamedNode | BlankNode]) -> None:
        self.roots = roots
        # Links from other nodes to an object are filed under that object, so that a node shared by many
        # objects (a collection, an owner listing what it owns) costs each only its own link.
        self.by_subject: dict[object, list[Triple]] = {}
        self.into_root: dict[object, list[Triple]] = {}
        for triple in triples:
            if triple.object in roots and triple.subject not in roots:
                self.into_root.setdefault(triple.object, []).append(triple)
            else:
                self.by_subject.setdefault(triple.subject, []).append(triple)

    def description(self, root: NamedNode | BlankNode) -> list[Triple]:
        incoming = self.into_root.get(root, [])
        out = list(incoming)
        members: set[object] = {root, *(t.subject for t in incoming)}
        frontier = list(members)
        while frontier:
            for triple in self.by_subject.get(frontier.pop(), []):
                out.append(triple)
                target = triple.object
                if target not in members and target not in self.roots:
                    members.add(target)
                    frontier.append(target)
        return out


def _lines(triples: list[Triple]) -> list[str]:
    text = pyoxigraph.serialize(triples, format=RdfFormat.N_TRIPLES) or b""
    return [line for line in text.decode("utf-8").split("\n") if line]


def edm_to_crm(triples: Iterable[Triple]) -> list[Triple]:
    """An EDM record as CIDOC-CRM in Linked Art's shape (``mappings/crm/edm-to-crm.rq``)."""
    return _construct(_store_of(triples), "edm-to-crm")


def record_as_crm(store: Store, graphs: Graphs, record_id: str) -> list[Triple]:
    """A stored record as CIDOC-CRM: the CRM it was ingested from if any, else its EDM mapped to CRM."""
    original = store.read_graph(graphs.original(record_id))
    return original or edm_to_crm(store.read_graph(graphs.record(record_id)))


def crm_turtle(triples: Iterable[Triple]) -> str:
    text = pyoxigraph.serialize(list(triples), format=RdfFormat.TURTLE, prefixes=TURTLE_PREFIXES) or b""
    return text.decode("utf-8")

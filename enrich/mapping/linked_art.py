"""Linked Art JSON-LD in and out, offline.

Linked Art documents name their context by URL (``"@context": "https://linked.art/ns/v1/linked-art.json"``).
That context is read from the copy cromulent ships (``cromulent/data/linked-art.json``), never from the
network; any other remote context is refused, naming it, since fetching one would be a network request
per document and a way for input to reach out.

Oxigraph's JSON-LD parser, given the context inline, handles Linked Art's type-scoped contexts but
re-processes one for every node whose type has it: about 10 ms per object. Those scoped contexts only
define six terms (``part``, ``part_of``, ``member``, ``member_of``, ``attributed_by``,
``assigned_property``), so a document that uses none of them is parsed with the context stripped of
them, which gives the same triples a hundred times faster.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

import pyoxigraph
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple

from enrich.namespaces import RDF_TYPE, XSD

LINKED_ART_CONTEXT: Final = "https://linked.art/ns/v1/linked-art.json"
_CONTEXT_URLS: Final = frozenset({LINKED_ART_CONTEXT, "http://linked.art/ns/v1/linked-art.json"})
_KEYWORD_ALIASES: Final = {"id": "@id", "type": "@type"}


class LinkedArtError(ValueError):
    """A JSON-LD document that cannot be read offline (a remote context other than Linked Art's, bad JSON)."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None) -> None:
        self.line = line
        self.column = column
        super().__init__(problem)


@cache
def linked_art_context() -> dict[str, Any]:
    """Linked Art's JSON-LD context (the value of its ``@context``), from cromulent's packaged copy."""
    text = resources.files("cromulent").joinpath("data/linked-art.json").read_text(encoding="utf-8")
    context: dict[str, Any] = json.loads(text)["@context"]
    return context


@cache
def _scoped_terms() -> frozenset[str]:
    """Terms that Linked Art defines only inside type- or property-scoped contexts."""
    terms: set[str] = set()

    def collect(context: dict[str, Any]) -> None:
        for definition in context.values():
            if isinstance(definition, dict) and isinstance(definition.get("@context"), dict):
                terms.update(definition["@context"])
                collect(definition["@context"])

    collect(linked_art_context())
    return frozenset(terms)


@cache
def _unscoped_context() -> dict[str, Any]:
    return {
        term: {key: value for key, value in definition.items() if key != "@context"}
        if isinstance(definition, dict)
        else definition
        for term, definition in linked_art_context().items()
    }


def resolve_contexts(document: Any) -> Any:
    """The document with Linked Art's context in place of its URL; any other remote context is refused.

    The document (parsed JSON) is changed in place and returned.
    """
    uses_scoped_terms = False
    scoped = _scoped_terms()

    def check(reference: Any, key: str) -> None:
        if isinstance(reference, str) and reference not in _CONTEXT_URLS:
            raise LinkedArtError(
                f"the remote context {reference!r} ({key}) is not fetched: only Linked Art's context "
                f"({LINKED_ART_CONTEXT}) is known, from a local copy; put any other context inline"
            )

    def walk(node: Any) -> None:
        nonlocal uses_scoped_terms
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in ("@context", "@import"):
                    for reference in value if isinstance(value, list) else [value]:
                        check(reference, key)
                elif key in scoped:
                    uses_scoped_terms = True
                walk(value)

    walk(document)
    context = linked_art_context() if uses_scoped_terms else _unscoped_context()

    def resolved(reference: Any) -> Any:
        return context if isinstance(reference, str) and reference in _CONTEXT_URLS else reference

    def substitute(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                substitute(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "@context":
                    node[key] = [resolved(item) for item in value] if isinstance(value, list) else resolved(value)
                else:
                    substitute(value)

    substitute(document)
    return document


def parse(data: bytes, base_iri: str | None = None, lenient: bool = False) -> Iterator[Triple]:
    """The triples of a JSON-LD document, with Linked Art's context resolved offline."""
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        raise LinkedArtError(f"not JSON: {exc.msg}", exc.lineno, exc.colno) from exc
    except UnicodeDecodeError as exc:
        raise LinkedArtError(f"not UTF-8 text: {exc}") from exc
    text = json.dumps(resolve_contexts(document)).encode("utf-8")
    for quad in pyoxigraph.parse(text, RdfFormat.JSON_LD, base_iri=base_iri, rename_blank_nodes=True, lenient=lenient):
        yield quad.triple


# -- writing ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Vocabulary:
    """Linked Art's names: class IRI -> term, property IRI -> (term, definition), namespace -> prefix."""

    classes: dict[str, str]
    properties: dict[str, tuple[str, dict[str, Any]]]
    prefixes: dict[str, str]

    def expand(self, compact: str) -> str:
        prefix, _, local = compact.partition(":")
        for namespace, name in self.prefixes.items():
            if name == prefix:
                return namespace + local
        return compact

    def compact(self, iri: str) -> str:
        for namespace, name in self.prefixes.items():
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return f"{name}:{iri[len(namespace) :]}"
        return iri


@cache
def _vocabulary() -> _Vocabulary:
    context = linked_art_context()
    vocabulary = _Vocabulary(
        {},
        {},
        {
            value: name
            for name, value in context.items()
            if isinstance(value, str) and value.startswith(("http://", "https://"))
        },
    )
    for term, definition in context.items():
        if not isinstance(definition, dict) or term in _KEYWORD_ALIASES:
            continue
        iri = vocabulary.expand(definition["@id"])
        if term[:1].isupper():
            vocabulary.classes.setdefault(iri, term)
        else:
            vocabulary.properties.setdefault(iri, (term, definition))
    return vocabulary


@cache
def _key_order() -> dict[str, int]:
    text = resources.files("cromulent").joinpath("data/key_order.json").read_text(encoding="utf-8")
    order: dict[str, int] = json.loads(text)
    return order


def to_linked_art(triples: Iterable[Triple], root: str) -> dict[str, Any]:
    """The description of ``root`` as Linked Art JSON-LD: one tree, compacted with Linked Art's context.

    Nodes are embedded where they are used (a node already open on the way down is referred to by its
    ``id``); blank nodes used more than once keep a label, so the JSON-LD reads back as the same graph.
    Statements about nodes that ``root`` does not reach are not part of the tree.
    """
    vocabulary = _vocabulary()
    by_subject: dict[NamedNode | BlankNode, list[Triple]] = {}
    uses: dict[BlankNode, int] = {}
    for triple in triples:
        if isinstance(triple.subject, NamedNode | BlankNode):
            by_subject.setdefault(triple.subject, []).append(triple)
        if isinstance(triple.object, BlankNode):
            uses[triple.object] = uses.get(triple.object, 0) + 1
    labels: dict[BlankNode, str] = {}
    order = _key_order()

    def identifier(node: NamedNode | BlankNode) -> str:
        if isinstance(node, NamedNode):
            return node.value
        return labels.setdefault(node, f"_:b{len(labels)}")

    def literal(value: Literal, definition: dict[str, Any]) -> Any:
        datatype = value.datatype.value
        if value.language:
            return {"@value": value.value, "@language": value.language}
        coerced = definition.get("@type")
        if coerced is not None:  # a bare string would be read as the term's type (or as an IRI for "@id")
            return value.value if vocabulary.expand(coerced) == datatype else {"@value": value.value, "@type": datatype}
        if datatype == f"{XSD}string":
            return value.value
        if datatype == f"{XSD}integer" and value.value.lstrip("-").isdigit() and str(int(value.value)) == value.value:
            return int(value.value)  # Linked Art writes numbers as JSON numbers, which read back as xsd:integer
        return {"@value": value.value, "@type": datatype}

    def node_object(node: NamedNode | BlankNode, path: set[NamedNode | BlankNode]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if isinstance(node, NamedNode) or uses.get(node, 0) > 1:
            out["id"] = identifier(node)
        if node in path or node not in by_subject:
            return out
        path = path | {node}
        values: dict[str, list[Any]] = {}
        sets: set[str] = set()
        for triple in by_subject[node]:
            predicate, obj = triple.predicate.value, triple.object
            if predicate == RDF_TYPE and isinstance(obj, NamedNode):
                values.setdefault("type", []).append(vocabulary.classes.get(obj.value, vocabulary.compact(obj.value)))
                continue
            term, definition = vocabulary.properties.get(predicate, (vocabulary.compact(predicate), {}))
            if definition.get("@container") == "@set":
                sets.add(term)
            if isinstance(obj, Literal):
                values.setdefault(term, []).append(literal(obj, definition))
            elif isinstance(obj, NamedNode | BlankNode):
                values.setdefault(term, []).append(node_object(obj, path))
        for key in sorted(values, key=lambda k: (order.get(k, 1000), k)):
            items = values[key]
            out[key] = items if key in sets or len(items) > 1 else items[0]
        return out

    tree = node_object(NamedNode(root), set())
    return {"@context": LINKED_ART_CONTEXT, **tree}

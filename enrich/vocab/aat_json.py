"""Converter for the AAT hierarchy as nested JSON (``{"name": …, "children": […]}``) to SKOS.

The 2014 snapshot of the AAT preferred hierarchy published by Matthew Lincoln (English names only, no
AAT IDs) is a realistic 23,449-node tree for facet code. Without IDs its concepts cannot be given
Getty IRIs, so they get local ones under a namespace that is plainly ours, derived from the label path
(stable across runs); each records the path it came from. Contains information from the Art &
Architecture Thesaurus (AAT)®, J. Paul Getty Trust, under ODC-By 1.0.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode

from enrich.namespaces import DCTERMS, SKOS
from enrich.vocab.skos import GVP, ConceptData, Vocabulary

DEFAULT_SCHEME = "https://w3id.org/heritage-enrich/vocab/aat-2014-tree"
ATTRIBUTION = (
    "Contains information from the Art & Architecture Thesaurus (AAT)®, J. Paul Getty Trust, "
    "licensed under ODC-By 1.0 (2014 preferred hierarchy as published by Matthew Lincoln; no AAT IDs, "
    "so concepts carry local IRIs)"
)
_HIERARCHY_NAME = re.compile(r"\((hierarchy name|facet)\)\s*$", re.IGNORECASE)


class HierarchyFormatError(ValueError):
    pass


def concept_iri(scheme_iri: str, path: list[str]) -> str:
    digest = hashlib.sha1("\x1f".join(path).encode("utf-8"), usedforsecurity=False).hexdigest()[:16]
    return f"{scheme_iri}/{digest}"


def convert(data: dict[str, Any], scheme_iri: str = DEFAULT_SCHEME) -> Vocabulary:
    """The JSON tree as a vocabulary; the top node ("AAT") becomes the scheme, its children the facets."""
    if not isinstance(data, dict) or "name" not in data:
        raise HierarchyFormatError('expected an object with "name" and "children" at the top')
    concepts: dict[str, ConceptData] = {}
    stack: list[tuple[dict[str, Any], list[str], str | None]] = [
        (child, [str(data["name"])], None) for child in reversed(_children(data))
    ]
    while stack:
        entry, parent_path, parent_iri = stack.pop()
        name = str(entry.get("name", "")).strip()
        if not name:
            raise HierarchyFormatError(f"a node under {' | '.join(parent_path)} has no name")
        path = [*parent_path, name]
        iri = concept_iri(scheme_iri, path)
        if iri in concepts:  # the same name twice under one parent: keep both, apart
            iri = concept_iri(scheme_iri, [*path, str(len(concepts))])
        node = ConceptData(iri, schemes={scheme_iri})
        node.pref_labels["en"] = name
        if parent_iri is None:
            node.types.add(GVP + "Facet")
            node.top_concept = True
        elif name.startswith("<") and name.endswith(">"):
            node.types.add(GVP + "GuideTerm")
        elif _HIERARCHY_NAME.search(name) or (parent_iri in concepts and GVP + "Facet" in concepts[parent_iri].types):
            node.types.add(GVP + "Hierarchy")
        else:
            node.types.add(SKOS + "Concept")
        if parent_iri is not None:
            node.broader.append(parent_iri)
        concepts[iri] = node
        stack.extend((child, path, iri) for child in reversed(_children(entry)))
    facts: list[tuple[str, NamedNode | Literal]] = [
        (DCTERMS + "title", Literal("AAT preferred hierarchy, February 2014 (local IRIs)", language="en")),
        (DCTERMS + "rights", Literal(ATTRIBUTION, language="en")),
        (DCTERMS + "license", NamedNode("http://opendatacommons.org/licenses/by/1.0/")),
    ]
    return Vocabulary(concepts, scheme_iri, facts)


def _children(entry: dict[str, Any]) -> list[dict[str, Any]]:
    children = entry.get("children", [])
    if not isinstance(children, list) or not all(isinstance(c, dict) for c in children):
        raise HierarchyFormatError(f'"children" of {entry.get("name")!r} is not a list of objects')
    return children


def load_json(path: Path, scheme_iri: str = DEFAULT_SCHEME) -> Vocabulary:
    with path.open("rb") as handle:
        try:
            data = json.load(handle)
        except json.JSONDecodeError as exc:
            raise HierarchyFormatError(f"{path}: not JSON ({exc})") from exc
    return convert(data, scheme_iri)

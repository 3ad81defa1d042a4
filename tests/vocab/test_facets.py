"""Facets as data: the bundled declarations, root resolution, and bad facet files."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest

from enrich.ingest.errors import InputError
from enrich.namespaces import DC, DCTERMS
from enrich.resources import data_dir
from enrich.vocab.facets import UnknownFacet, facet_roots, facet_tree, get_facet, load_facets
from enrich.vocab.skos import read_skos
from enrich.vocab.tree import LabelTree

STARTER = "https://w3id.org/heritage-enrich/vocab/aat-starter/"


def test_bundled_facets_name_their_edm_property() -> None:
    facets = load_facets()
    assert {f: facets[f].target_property for f in facets} == {
        "materials": DCTERMS + "medium",
        "object-types": DC + "type",
        "disciplines": DC + "subject",
        "subjects": DC + "subject",
        "styles-periods": DCTERMS + "temporal",
        "korean-periods": DCTERMS + "temporal",
        "korean-materials": DCTERMS + "medium",
        "korean-lifestyle": DC + "subject",
    }
    assert facets["materials"].languages[0] == "en" and "ko" in facets["materials"].languages
    assert facets["materials"].label("ko") == "재질"
    with pytest.raises(UnknownFacet, match="known: disciplines, korean-lifestyle, korean-materials"):
        get_facet(facets, "colour")


def test_starter_vocabulary_gives_materials_and_object_types() -> None:
    starter = data_dir("mappings") / "vocab" / "aat-starter.ttl"
    tree = LabelTree.from_vocabulary(read_skos(pyoxigraph.parse(path=str(starter))))
    facets = load_facets()
    materials = facet_tree(facets["materials"], {"aat-starter": tree})
    assert materials.roots == [STARTER + "materials"]
    assert [c.concept for c in materials.find("canvas")] == ["http://vocab.getty.edu/aat/300014078"]
    assert materials.find("vase") == []  # an object type, not a material
    objects = facet_tree(facets["object-types"], {"aat-starter": tree})
    assert len(objects) > 20 and all(objects[n].depth <= 1 for n in objects.nodes)
    # A concept in two collections is in both facets' trees.
    both = set(materials.nodes) & set(objects.nodes) - {STARTER + "materials", STARTER + "object-types"}
    assert all(materials[i].parent == STARTER + "materials" for i in both)
    # By label (the Getty hierarchy name the starter vocabulary carries) and by collection IRI.
    assert facet_roots(facets["styles-periods"], tree) == [
        "http://vocab.getty.edu/aat/300015646",
        STARTER + "styles-periods",
    ]


def test_bad_facet_files(tmp_path: Path) -> None:
    missing_property = tmp_path / "facets.ttl"
    missing_property.write_text(
        '@prefix enr: <https://w3id.org/heritage-enrich/ns#> .\n<urn:f> a enr:Facet ; enr:facetId "f" .\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="exactly one enr:targetProperty"):
        load_facets(missing_property)
    broken = tmp_path / "broken.ttl"
    broken.write_text("<urn:f> a ", encoding="utf-8")
    with pytest.raises(InputError, match="cannot read the facets"):
        load_facets(broken)

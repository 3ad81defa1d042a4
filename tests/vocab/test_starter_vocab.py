"""The bundled AAT starter vocabulary holds only real AAT concepts, each traceable to the source it names.

Every ID, label and broader link in ``mappings/vocab/aat-starter.ttl`` is looked up, at test time, in the
source file its ``dcterms:source`` names: cromulent's data files (read from the installed package) and the
Getty, Europeana and Met samples under ``shared/data``. An invented ID or label fails here.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import TypeVar

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DC, DCTERMS, RDF, SKOS

REPO = Path(__file__).resolve().parents[2]
VOCAB_FILE = REPO / "mappings" / "vocab" / "aat-starter.ttl"
SHARED_DATA = REPO.parent / "shared" / "data"

SCHEME = URIRef("https://w3id.org/heritage-enrich/vocab/aat-starter")
STARTER = Namespace(str(SCHEME) + "/")
SRC = Namespace(str(SCHEME) + "/source/")
GVP = Namespace("http://vocab.getty.edu/ontology#")
AAT = "http://vocab.getty.edu/aat/"
AAT_IRI = re.compile(re.escape(AAT) + r"\d+")
MET_TAG_URL = re.compile(r"https?://vocab\.getty\.edu/page/aat/(\d+)")
STRUCTURE_TYPES = frozenset({GVP.GuideTerm, GVP.Hierarchy, GVP.Facet})
ODC_BY = URIRef("http://opendatacommons.org/licenses/by/1.0/")

Label = tuple[str, str]  # (language, case-folded text)
T = TypeVar("T")


@dataclass
class SourceFacts:
    """What one source file states about AAT concepts."""

    pref_labels: dict[str, set[Label]] = field(default_factory=lambda: defaultdict(set))
    # Every label the source gives a concept (preferred, alternate, or cromulent's key).
    labels: dict[str, set[Label]] = field(default_factory=lambda: defaultdict(set))
    broader: set[tuple[str, str]] = field(default_factory=set)
    broader_preferred: set[tuple[str, str]] = field(default_factory=set)
    types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # Facet collections (local names) the source's own classing supports for a concept.
    facets: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add_label(self, concept: str, language: str, text: str, preferred: bool) -> None:
        label = (language or "en", text.strip().casefold())
        self.labels[concept].add(label)
        if preferred:
            self.pref_labels[concept].add(label)

    def merge(self, other: SourceFacts) -> None:
        _merge_into(self.pref_labels, other.pref_labels)
        _merge_into(self.labels, other.labels)
        _merge_into(self.types, other.types)
        _merge_into(self.facets, other.facets)
        self.broader |= other.broader
        self.broader_preferred |= other.broader_preferred


def _merge_into(mine: dict[str, set[T]], theirs: dict[str, set[T]]) -> None:
    for concept, values in theirs.items():
        mine.setdefault(concept, set()).update(values)


def _cromulent_facts(path: str) -> SourceFacts:
    entries: dict[str, dict[str, str]] = json.loads(resources.files("cromulent").joinpath(path).read_text("utf-8"))
    facts = SourceFacts()
    for key, entry in entries.items():
        if entry.get("vocab", "aat") != "aat":
            continue
        concept = AAT + entry["id"]
        facts.add_label(concept, "en", entry["label"], preferred=True)
        facts.add_label(concept, "en", key, preferred=False)
        if entry["parent"] == "Material":
            facts.facets[concept].add("materials")
        if entry.get("metatype") == "work type" or (entry["parent"] == "HumanMadeObject" and "metatype" not in entry):
            facts.facets[concept].add("object-types")
    return facts


def _rdf_facts(file: Path, rdf_format: str) -> SourceFacts:
    graph = Graph().parse(file, format=rdf_format)
    facts = SourceFacts()
    for predicate, preferred in ((SKOS.prefLabel, True), (SKOS.altLabel, False)):
        for subject, label in graph.subject_objects(predicate):
            if isinstance(label, Literal) and AAT_IRI.fullmatch(str(subject)):
                facts.add_label(str(subject), label.language or "", str(label), preferred)
    facts.broader = {(str(s), str(o)) for s, o in graph.subject_objects(SKOS.broader)}
    facts.broader_preferred = {(str(s), str(o)) for s, o in graph.subject_objects(GVP.broaderPreferred)}
    for subject, type_ in graph.subject_objects(RDF.type):
        facts.types[str(subject)].add(str(type_))
    # In an EDM record, dc:type says what kind of object the record describes.
    for concept in graph.objects(None, DC.type):
        facts.facets[str(concept)].add("object-types")
    return facts


def _met_facts(file: Path) -> SourceFacts:
    facts = SourceFacts()
    with file.open(encoding="utf-8", newline="") as rows:
        for row in csv.DictReader(rows):
            tags, urls = row["Tags"].split("|"), row["Tags AAT URL"].split("|")
            if len(tags) != len(urls):
                continue
            for tag, url in zip(tags, urls, strict=True):
                if match := MET_TAG_URL.fullmatch(url.strip()):
                    facts.add_label(AAT + match.group(1), "en", tag, preferred=True)
    return facts


def _europeana_sample(repo_path: str) -> Path:
    with (SHARED_DATA / "edm" / "samples_manifest.csv").open(encoding="utf-8", newline="") as rows:
        for row in csv.DictReader(rows):
            if row["repo"] == "europeana/metis-framework" and row["path"] == repo_path:
                return SHARED_DATA / "edm" / "samples" / row["file"]
    raise AssertionError(f"no Europeana sample for {repo_path}")


@cache
def source_facts(dataset: str, path: str) -> SourceFacts:
    """Read the source file ``path`` of ``dataset`` (both as the vocabulary names them)."""
    if dataset == str(SRC["cromulent-1.0.1"]):
        return _cromulent_facts(path)
    if dataset == str(SRC["dans-getty-aat-concepts"]):
        return _rdf_facts(SHARED_DATA / "aat" / "getty-lod-samples" / PurePosixPath(path).name, "turtle")
    if dataset == str(SRC["europeana-metis-framework"]):
        return _rdf_facts(_europeana_sample(path), "xml")
    if dataset == str(SRC["met-openaccess"]) and path == "MetObjects.csv":
        # The shared sample holds the first rows of the Met's MetObjects.csv.
        return _met_facts(SHARED_DATA / "museums" / "met" / "MetObjects_first999_utf8.csv")
    raise AssertionError(f"unknown source {dataset} {path}")


@pytest.fixture(scope="module")
def vocab() -> Graph:
    return Graph().parse(VOCAB_FILE, format="turtle")


@pytest.fixture(scope="module")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"source samples not found at {SHARED_DATA}")
    return SHARED_DATA


def entries(vocab: Graph) -> list[URIRef]:
    """Everything in the scheme: concepts and Getty structure nodes."""
    return sorted(s for s in vocab.subjects(SKOS.inScheme, SCHEME) if isinstance(s, URIRef))


def concepts(vocab: Graph) -> list[URIRef]:
    return sorted(s for s in vocab.subjects(RDF.type, SKOS.Concept) if isinstance(s, URIRef))


def facet_collections(vocab: Graph) -> list[URIRef]:
    return sorted(
        c for c in vocab.subjects(RDF.type, SKOS.Collection) if isinstance(c, URIRef) and c.startswith(STARTER)
    )


def named_facts(vocab: Graph, entry: URIRef) -> Iterator[SourceFacts]:
    sources = list(vocab.objects(entry, DCTERMS.source))
    assert sources, f"{entry} names no dcterms:source"
    for source in sources:
        dataset = vocab.value(source, DCTERMS.isPartOf)
        path = vocab.value(source, DCTERMS.identifier)
        assert dataset is not None and path is not None, f"{entry}: source {source} is not described"
        yield source_facts(str(dataset), str(path))


def merged_facts(vocab: Graph, entry: URIRef) -> SourceFacts:
    facts = SourceFacts()
    for one in named_facts(vocab, entry):
        facts.merge(one)
    return facts


def test_scheme_carries_odc_by_licence_and_attribution(vocab: Graph) -> None:
    assert (SCHEME, RDF.type, SKOS.ConceptScheme) in vocab
    assert (SCHEME, DCTERMS.license, ODC_BY) in vocab
    rights = " ".join(str(r) for r in vocab.objects(SCHEME, DCTERMS.rights))
    for part in ("Art & Architecture Thesaurus (AAT)", "J. Paul Getty Trust", "ODC-By 1.0"):
        assert part in rights
    for predicate in (DCTERMS.title, DCTERMS.description, DCTERMS.created):
        assert vocab.value(SCHEME, predicate) is not None, predicate
    header = VOCAB_FILE.read_text(encoding="utf-8").split("\nPREFIX", 1)[0]
    assert "J. Paul Getty Trust" in header and "ODC-By" in header and "Apache-2.0" in header


def test_every_entry_is_an_aat_concept_in_the_scheme(vocab: Graph) -> None:
    in_scheme = set(entries(vocab))
    assert len(concepts(vocab)) >= 200
    assert set(concepts(vocab)) <= in_scheme
    members = {m for c in facet_collections(vocab) for m in vocab.objects(c, SKOS.member)}
    assert members <= in_scheme
    not_aat = [e for e in in_scheme if not AAT_IRI.fullmatch(str(e))]
    assert not_aat == []


def test_one_pref_label_per_language_and_one_in_english(vocab: Graph) -> None:
    for entry in entries(vocab):
        languages = [label.language for label in vocab.objects(entry, SKOS.prefLabel) if isinstance(label, Literal)]
        assert "en" in languages, entry
        assert len(languages) == len(set(languages)), entry


def test_every_concept_is_in_a_facet_collection(vocab: Graph) -> None:
    collections = facet_collections(vocab)
    assert {STARTER.materials, STARTER["object-types"]} <= set(collections)
    for collection in collections:
        label = vocab.value(collection, SKOS.prefLabel)
        assert isinstance(label, Literal) and label.language == "en", collection
    members = {m for c in collections for m in vocab.objects(c, SKOS.member)}
    assert [c for c in concepts(vocab) if c not in members] == []
    structure = [e for e in entries(vocab) if STRUCTURE_TYPES & set(vocab.objects(e, RDF.type))]
    assert structure and not members & set(structure)


@pytest.mark.usefixtures("shared_data")
def test_every_label_is_found_in_a_named_source(vocab: Graph) -> None:
    problems = []
    for entry in entries(vocab):
        facts = merged_facts(vocab, entry)
        if str(entry) not in facts.labels:
            problems.append(f"{entry}: not in its named sources")
            continue
        for predicate, stated in ((SKOS.prefLabel, facts.pref_labels), (SKOS.altLabel, facts.labels)):
            for label in vocab.objects(entry, predicate):
                assert isinstance(label, Literal)
                if (label.language or "", str(label).strip().casefold()) not in stated[str(entry)]:
                    problems.append(f"{entry}: {label!r}@{label.language} is not a {predicate} in its sources")
    assert problems == []


@pytest.mark.usefixtures("shared_data")
def test_every_broader_link_is_stated_by_a_named_source(vocab: Graph) -> None:
    for predicate, attribute in ((SKOS.broader, "broader"), (GVP.broaderPreferred, "broader_preferred")):
        for entry, parent in vocab.subject_objects(predicate):
            assert isinstance(entry, URIRef)
            stated: set[tuple[str, str]] = getattr(merged_facts(vocab, entry), attribute)
            assert (str(entry), str(parent)) in stated, f"{entry} {predicate} {parent}"


@pytest.mark.usefixtures("shared_data")
def test_getty_types_are_kept_and_none_added(vocab: Graph) -> None:
    for entry in entries(vocab):
        types = {str(t) for t in vocab.objects(entry, RDF.type)}
        stated = merged_facts(vocab, entry).types[str(entry)]
        if stated:
            assert types == stated, entry
        else:
            assert types == {str(SKOS.Concept)}, entry


@pytest.mark.usefixtures("shared_data")
def test_materials_and_object_types_are_classed_so_by_their_source(vocab: Graph) -> None:
    for facet in ("materials", "object-types"):
        for member in vocab.objects(STARTER[facet], SKOS.member):
            assert isinstance(member, URIRef)
            assert facet in merged_facts(vocab, member).facets[str(member)], f"{member} in {facet}"


def test_all_getty_samples_are_included_with_their_labels(vocab: Graph, shared_data: Path) -> None:
    samples = sorted((shared_data / "aat" / "getty-lod-samples").glob("aat_*.ttl"))
    assert samples
    for sample in samples:
        facts = source_facts(str(SRC["dans-getty-aat-concepts"]), f"sparql/{sample.name}")
        for concept, labels in facts.pref_labels.items():
            ours = {
                (lab.language or "", str(lab).casefold())
                for lab in vocab.objects(URIRef(concept), SKOS.prefLabel)
                if isinstance(lab, Literal)
            }
            assert ours == labels, concept

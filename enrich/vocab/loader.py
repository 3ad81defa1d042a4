"""Vocabularies in the store: load a SKOS file into ``…/graph/vocab/{name}``, list them, read trees back.

A load reads the source in one streaming pass (:mod:`enrich.vocab.skos`), bulk-loads the normalised
concepts into a staging graph, then swaps them in with one atomic update: readers see the old concepts
or the new ones, and a crash mid-load leaves only a staging graph that the next load clears.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import pyoxigraph
from pyoxigraph import RdfFormat

from enrich.ingest.errors import InputError
from enrich.ingest.journal import now_literal, string_literal
from enrich.ingest.safety import LimitedStream, read_prolog
from enrich.ingest.sources import format_for
from enrich.namespaces import ENR, PROV, SKOS, Graphs
from enrich.resources import data_dir
from enrich.store.base import Store, text
from enrich.vocab.skos import Vocabulary, normalised_n_triples, read_skos
from enrich.vocab.tree import LabelTree

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_LOAD_CHUNK = 20_000
#: The vocabulary shipped with the package for the embedded default.
STARTER_VOCABULARY = "aat-starter"


@dataclass
class LoadReport:
    name: str
    graph: str
    scheme: str
    concepts: int
    structural: int
    skipped_deprecated: int
    replaced: bool
    seconds: float

    def summary(self) -> str:
        how = "replaced" if self.replaced else "merged into"
        return (
            f"{self.concepts} concept(s) ({self.structural} guide terms/collections, "
            f"{self.skipped_deprecated} deprecated skipped) {how} vocabulary {self.name!r} "
            f"<{self.graph}> in {self.seconds:.2f} s"
        )


@dataclass
class VocabularyInfo:
    name: str
    graph: str
    scheme: str | None
    concepts: int
    source: str | None
    loaded: str | None


def bundled_names() -> list[str]:
    return sorted(p.stem for p in (data_dir("mappings") / "vocab").glob("*.ttl"))


def bundled_vocabulary(name: str = STARTER_VOCABULARY) -> Path:
    """A vocabulary file shipped in ``mappings/vocab/``."""
    path = data_dir("mappings") / "vocab" / f"{name}.ttl"
    if not path.is_file():
        raise InputError(name, f"no bundled vocabulary of that name (bundled: {', '.join(bundled_names())})")
    return path


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InputError(name, "a vocabulary name is 1-64 letters, digits, '.', '_' or '-', starting alphanumeric")
    return name


def read_file(path: Path, explicit_format: str | None = None, max_bytes: int = 8 * 1024**3) -> Vocabulary:
    """Read a SKOS file (Turtle, N-Triples, RDF/XML, JSON-LD, N-Quads, TriG) with the ingest's defences."""
    if not path.is_file():
        raise InputError(str(path), "no such file")
    rdf_format = format_for(path.name, explicit_format)
    if rdf_format is None:
        raise InputError(str(path), "cannot tell the RDF format from the file name; pass --format")
    with path.open("rb") as raw:
        prefix = read_prolog(raw, str(path)) if rdf_format == RdfFormat.RDF_XML else b""
        stream = LimitedStream(raw, max_bytes, str(path), prefix)
        try:
            vocabulary = read_skos(pyoxigraph.parse(cast(IO[bytes], stream), rdf_format, base_iri=path.as_uri()))
        except SyntaxError as exc:
            raise InputError(str(path), f"{rdf_format.name} syntax error: {exc.msg or exc}", exc.lineno) from exc
    if not vocabulary.concepts:
        raise InputError(str(path), "no SKOS concepts found (nothing with a skos:prefLabel and a type or scheme)")
    return vocabulary


def default_name(vocabulary: Vocabulary) -> str:
    """A name from the scheme IRI: ``http://vocab.getty.edu/aat/`` → ``aat``."""
    scheme = (vocabulary.scheme_iri or "").rstrip("/#")
    tail = re.split(r"[/#:]", scheme)[-1] if scheme else ""
    candidate = re.sub(r"[^A-Za-z0-9._-]+", "-", tail).strip("-.")
    return candidate[:64] if candidate and _NAME.match(candidate) else "local"


def load(
    store: Store,
    graphs: Graphs,
    vocabulary: Vocabulary,
    name: str,
    source: str,
    replace: bool = False,
) -> LoadReport:
    """Write a vocabulary into its graph: merged concept by concept (a concept read again replaces its
    earlier description), or replacing the whole graph."""
    started = time.perf_counter()
    graph = graphs.vocab(check_name(name))
    scheme = vocabulary.scheme_iri or f"{graph}#scheme"
    _drop_stale_staging(store, graphs)
    metadata = (
        f"<{scheme}> <{ENR}vocabularyName> {string_literal(name)} ; <{ENR}loadedFrom> {string_literal(source)} ; "
        f"<{PROV}generatedAtTime> {now_literal()} ."
    )
    complete = store.ask(f"ASK {{ GRAPH <{graph}> {{ ?scheme <{ENR}loadedFrom> ?source }} }}")
    if not complete:
        # A first load goes straight into its graph (a third of the time of a staged swap); the load
        # metadata, written last, marks it complete, and a load that crashed before it is redone here.
        if store.graph_exists(graph):
            store.delete_graph(graph)
        for chunk in _chunks(normalised_n_triples(vocabulary, scheme)):
            store.bulk_load(chunk.encode("utf-8"), RdfFormat.N_TRIPLES, graph)
        store.update(f"INSERT DATA {{ GRAPH <{graph}> {{ {metadata} }} }}")
    else:
        _swap_in(store, graph, scheme, vocabulary, metadata, replace, f"{graphs.base}/graph/vocab-staging/")
    structural = sum(1 for c in vocabulary.concepts.values() if c.structural)
    return LoadReport(
        name,
        graph,
        scheme,
        len(vocabulary.concepts),
        structural,
        vocabulary.skipped_deprecated,
        replace,
        time.perf_counter() - started,
    )


def _swap_in(
    store: Store, graph: str, scheme: str, vocabulary: Vocabulary, metadata: str, replace: bool, staging_prefix: str
) -> None:
    """Stage the new concepts, then merge or replace them into a loaded vocabulary in one atomic update."""
    staging = staging_prefix + uuid.uuid4().hex
    for chunk in _chunks(normalised_n_triples(vocabulary, scheme)):
        store.bulk_load(chunk.encode("utf-8"), RdfFormat.N_TRIPLES, staging)
    if replace:
        swap = f"DROP SILENT GRAPH <{graph}> ; ADD SILENT <{staging}> TO <{graph}>"
    else:
        # Concepts read again lose their old description (labels, parents) before the new one is added;
        # the load metadata of the scheme is always the latest.
        swap = (
            f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ "
            f"{{ SELECT DISTINCT ?s WHERE {{ GRAPH <{staging}> {{ ?s ?any ?value }} }} }} "
            f"GRAPH <{graph}> {{ ?s ?p ?o }} FILTER (?s != <{scheme}> || ?p IN (<{ENR}loadedFrom>, "
            f"<{PROV}generatedAtTime>, <{ENR}vocabularyName>)) }} ; "
            f"ADD SILENT <{staging}> TO <{graph}>"
        )
    store.update(f"{swap} ; INSERT DATA {{ GRAPH <{graph}> {{ {metadata} }} }} ; DROP SILENT GRAPH <{staging}>")


def _chunks(lines: Iterator[str]) -> Iterator[str]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= _LOAD_CHUNK:
            yield "\n".join(batch) + "\n"
            batch = []
    if batch:
        yield "\n".join(batch) + "\n"


def _drop_stale_staging(store: Store, graphs: Graphs) -> None:
    """Staging graphs left by a load that crashed. Loads of one store do not run concurrently (the
    embedded store is locked to one process), so any staging graph found before a load is stale."""
    prefix = f"{graphs.base}/graph/vocab-staging/"
    for graph in store.named_graphs():
        if graph.startswith(prefix):
            store.delete_graph(graph)


def list_vocabularies(store: Store, graphs: Graphs) -> list[VocabularyInfo]:
    prefix = graphs.vocab("")
    rows = store.select(
        f"SELECT ?g ?scheme ?source ?loaded (COUNT(DISTINCT ?c) AS ?concepts) WHERE {{ GRAPH ?g {{ "
        f"OPTIONAL {{ ?scheme <{ENR}loadedFrom> ?source ; <{PROV}generatedAtTime> ?loaded }} "
        f"OPTIONAL {{ ?c <{SKOS}inScheme> ?anyScheme }} }} FILTER(STRSTARTS(STR(?g), {string_literal(prefix)})) }} "
        "GROUP BY ?g ?scheme ?source ?loaded ORDER BY ?g"
    )
    found: dict[str, VocabularyInfo] = {}
    for row in rows:
        graph = text(row["g"])
        info = VocabularyInfo(
            graph.removeprefix(prefix),
            graph,
            text(row["scheme"]) if "scheme" in row else None,
            int(text(row["concepts"])),
            text(row["source"]) if "source" in row else None,
            text(row["loaded"]) if "loaded" in row else None,
        )
        previous = found.get(graph)
        if previous is None or (info.loaded or "") > (previous.loaded or ""):
            found[graph] = info
    return list(found.values())


def vocabulary_snapshot(store: Store, graphs: Graphs) -> str:
    """The loaded vocabularies and when each was loaded, as one string: what a run or a trained model was made
    against (a vocabulary reloaded since gives another snapshot)."""
    return " ".join(f"{info.name}@{info.loaded or 'incomplete'}" for info in list_vocabularies(store, graphs))


def read_vocabulary(store: Store, graphs: Graphs, name: str) -> Vocabulary:
    graph = graphs.vocab(check_name(name))
    if not store.graph_exists(graph):
        raise InputError(name, "no such vocabulary in the store (see `enrich vocab list`)")
    return read_skos(store.read_graph(graph))


def read_tree(store: Store, graphs: Graphs, name: str) -> LabelTree:
    return LabelTree.from_vocabulary(read_vocabulary(store, graphs, name))


def read_trees(store: Store, graphs: Graphs) -> dict[str, LabelTree]:
    """Every vocabulary in the store as a tree, by name."""
    return {info.name: read_tree(store, graphs, info.name) for info in list_vocabularies(store, graphs)}


def vocabulary_triples(vocabulary: Vocabulary) -> Iterable[str]:
    """Plain SKOS N-Triples of a vocabulary read from a file (for writing a converted tree to disk)."""
    return normalised_n_triples(vocabulary, vocabulary.scheme_iri or "urn:x-local:scheme")


__all__ = [
    "STARTER_VOCABULARY",
    "LoadReport",
    "VocabularyInfo",
    "bundled_names",
    "bundled_vocabulary",
    "default_name",
    "list_vocabularies",
    "load",
    "read_file",
    "read_tree",
    "read_trees",
    "read_vocabulary",
    "vocabulary_snapshot",
]

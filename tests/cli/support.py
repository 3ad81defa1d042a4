"""Helpers for running the real ``enrich`` console script in a subprocess."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import CanonicalizationAlgorithm, Dataset, DefaultGraph, Quad, RdfFormat

from enrich.namespaces import Graphs
from enrich.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "enrich" / "samples"
MUSEUM_SAMPLE = SAMPLES / "museum-sample.rdf"
SCAN_SAMPLE = SAMPLES / "scan-sample.ttl"
COLLECTION_SAMPLE = SAMPLES / "collection-sample.rdf"
#: The museum CSV export and the bundled mapping that converts it (a folder ingest skips the CSV).
TABLE_SAMPLE = SAMPLES / "museum-export-sample.csv"
TABLE_MAPPING = "cmoa"
ENRICH = Path(sys.executable).parent / "enrich"
COMMAND_TIMEOUT_S = 120
GRAPHS = Graphs(Settings.model_fields["base_iri"].default)
EXPORT_FORMATS = {
    "turtle": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "nquads": RdfFormat.N_QUADS,
    "rdfxml": RdfFormat.RDF_XML,
    "jsonld": RdfFormat.JSON_LD,
}

#: The ProvidedCHOs of the first samples (three in the RDF/XML file, one in the Turtle file).
MUSEUM_CHOS = (
    "http://data.example-museum.org/object/ceramics-0042",
    "http://data.example-museum.org/object/metal-0107",
    "http://data.example-library.org/book/rare-1888-03",
)
SCAN_CHO = "http://data.example-archaeology.org/find/stone-axe-9"
#: The ProvidedCHOs of collection-sample.rdf (https://data.example.org/{institution}/object/{local id}).
COLLECTION_IDS = {
    "asian-art": ("cer-0101", "cer-0102", "cer-0103", "sculpt-0210", "pnt-0305", "print-0411", "metal-0512"),
    "city-gallery": (
        "p-0012",
        "p-0047",
        "p-0101",
        "d-0230",
        "d-0231",
        "pr-0502",
        "pr-0503",
        "s-0711",
        "s-0712",
        "ph-0801",
    ),
    "musee-exemple": ("obj-1201", "obj-1202", "obj-1203", "obj-1204"),
    "state-library": ("ms-0007", "rare-1562-01", "map-0088", "ms-0131", "letter-0419"),
    "stadsmuseum": ("sk-2001", "nm-2002", "arch-2003"),
    "sound-archive": ("rec-0301", "rec-0302", "rec-0303"),
    "film-institute": ("film-0401", "film-0402"),
    "archaeology": ("find-0021", "find-0022", "find-0023"),
}


def collection_cho(institution: str, local_id: str) -> str:
    assert local_id in COLLECTION_IDS[institution], (institution, local_id)
    return f"https://data.example.org/{institution}/object/{local_id}"


COLLECTION_CHOS = tuple(collection_cho(inst, local) for inst, ids in COLLECTION_IDS.items() for local in ids)
#: Every ProvidedCHO of the RDF samples: what ``enrich ingest enrich/samples`` reads.
ALL_CHOS = (*MUSEUM_CHOS, SCAN_CHO, *COLLECTION_CHOS)
#: Records of each kind of content, for the checks that start a process per record (the in-process
#: checks in test_samples.py cover every record): the first samples, then Hanja with a shared time span,
#: views with an AAT concept, a sound recording with an agent, a 3D model with a place.
EXPORT_CHOS = (
    *MUSEUM_CHOS,
    SCAN_CHO,
    collection_cho("asian-art", "cer-0101"),
    collection_cho("asian-art", "metal-0512"),
    collection_cho("sound-archive", "rec-0301"),
    collection_cho("stadsmuseum", "arch-2003"),
)


def table_chos() -> tuple[str, ...]:
    """The ProvidedCHOs the cmoa mapping makes of the CSV sample's rows: {base}cmoa/object/{id|tail}."""
    base = GRAPHS.base + "/"  # the mapping's {base}: the base IRI, ending in a slash
    with TABLE_SAMPLE.open(encoding="utf-8", newline="") as table:
        return tuple(f"{base}cmoa/object/{row['id'].rsplit('/', 1)[-1]}" for row in csv.DictReader(table))


@dataclass(frozen=True)
class SampleCounts:
    """What a set of bundled samples gives once ingested and enriched (starter vocabulary, lexical)."""

    documents: int
    chos: tuple[str, ...]
    providers: dict[str, int]
    edm_types: dict[str, int]
    suggestions: int
    materials_suggestions: int

    @property
    def records(self) -> int:
        return len(self.chos)


HERITAGE, REGIONAL, AUDIOVISUAL = (
    "Example Heritage Aggregator",
    "Example Regional Aggregator",
    "Example Audiovisual Network",
)
#: The RDF samples: the three files a folder ingest of enrich/samples reads.
RDF_SAMPLES = SampleCounts(
    documents=3,
    chos=ALL_CHOS,
    providers={HERITAGE: 24, REGIONAL: 12, AUDIOVISUAL: 5},
    edm_types={"IMAGE": 26, "3D": 5, "TEXT": 5, "SOUND": 3, "VIDEO": 2},
    suggestions=122,
    materials_suggestions=38,
)
#: What ``enrich demo`` ingests: the RDF samples and the CSV sample converted with the cmoa mapping under a
#: made-up museum's name. The mapping adds materials concepts of its own, so fewer materials are suggested per
#: record; the demo also loads the Korean museum classes, whose facets get suggestions of their own.
WITH_TABLE = SampleCounts(
    documents=4,
    chos=(*ALL_CHOS, *table_chos()),
    providers={**RDF_SAMPLES.providers, "Example Museum of Modern Art": 20},
    edm_types={"IMAGE": 43, "3D": 5, "TEXT": 5, "SOUND": 4, "VIDEO": 4},
    suggestions=190,
    materials_suggestions=42,
)


def demo_counts(output: str) -> SampleCounts:
    """The counts ``enrich demo`` should print (it always converts and ingests the CSV sample)."""
    assert f"{TABLE_SAMPLE.name}: 20 row(s), 20 converted, 0 skipped" in output, output
    return WITH_TABLE


def without_one(counts: dict[str, int], key: str) -> dict[str, int]:
    """``counts`` with one fewer ``key`` (gone when none is left), as ``enrich stats`` lists them."""
    left = {**counts, key: counts[key] - 1}
    return {name: count for name, count in left.items() if count}


def canonical(quads: Iterable[Quad]) -> set[Quad]:
    """Quads with blank nodes relabelled canonically, so two parses of one graph compare equal."""
    dataset = Dataset(quads)
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def as_triples(quads: Iterable[Quad]) -> set[Quad]:
    """The same statements in the default graph (graph names dropped)."""
    return canonical(Quad(q.subject, q.predicate, q.object, DefaultGraph()) for q in quads)


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any ENRICH_* setting, offline for model hubs."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ENRICH_")}
    env.pop("PYTHONPATH", None)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONIOENCODING="utf-8")
    env.update(extra)
    return env


@dataclass
class Result:
    returncode: int
    stdout_bytes: bytes
    stderr_bytes: bytes

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8")

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode("utf-8")

    def describe(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def enrich(
    *args: str | Path,
    cwd: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = COMMAND_TIMEOUT_S,
) -> Result:
    """Run the installed ``enrich`` script with ``args`` in ``cwd`` (where .env and reports would go)."""
    completed = subprocess.run(
        [str(ENRICH), *map(str, args)],
        cwd=cwd,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=env if env is not None else clean_env(),
        timeout=timeout,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def ok(*args: str | Path, cwd: Path, stdin: bytes | None = None) -> Result:
    """Run ``enrich`` and insist that it succeeds."""
    result = enrich(*args, cwd=cwd, stdin=stdin)
    assert result.returncode == 0, result.describe()
    return result


@dataclass
class StatsView:
    records: int
    deleted: int
    triples: int
    record_triples: int
    sections: dict[str, dict[str, int]]


_RECORDS = re.compile(r"^records:\s+([\d,]+) \(\+([\d,]+) deleted\)$")
_TRIPLES = re.compile(r"^triples:\s+([\d,]+) in the store, ([\d,]+) in record graphs$")
_SECTION = re.compile(r"^(.+) \((\d+)\):$")
_ROW = re.compile(r"^\s+([\d,]+)  (.+)$")


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def parse_stats(text: str) -> StatsView:
    """Read back what ``enrich stats`` (or the end of ``enrich demo``) printed."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("records:"))
    records = _RECORDS.match(lines[start])
    triples = _TRIPLES.match(lines[start + 1])
    assert records and triples, text
    sections: dict[str, dict[str, int]] = {}
    declared: dict[str, int] = {}
    current: dict[str, int] = {}
    for line in lines[start + 2 :]:
        if section := _SECTION.match(line):
            current = sections.setdefault(section.group(1), {})
            declared[section.group(1)] = int(section.group(2))
        elif row := _ROW.match(line):
            current[row.group(2)] = _number(row.group(1))
        else:
            raise AssertionError(f"unexpected stats line {line!r} in:\n{text}")
    for title, count in declared.items():
        assert len(sections[title]) == count, f"{title}: {count} announced, {sections[title]} listed"
    return StatsView(
        records=_number(records.group(1)),
        deleted=_number(records.group(2)),
        triples=_number(triples.group(1)),
        record_triples=_number(triples.group(2)),
        sections=sections,
    )


_SUMMARY = re.compile(r"^(\d+) document\(s\), (\d+) record\(s\): ([^;]*);", re.MULTILINE)
_COUNT = re.compile(r"^(\d+) (\w+)$")


def parse_summary(text: str) -> dict[str, int]:
    """The counts of an ingest summary line: documents, records, new, updated, unchanged, invalid, ..."""
    match = _SUMMARY.search(text)
    assert match, f"no ingest summary in:\n{text}"
    counts = {"documents": int(match.group(1)), "records": int(match.group(2))}
    for part in match.group(3).split(", "):
        count = _COUNT.match(part.strip())
        assert count, f"unexpected part {part!r} of the summary in:\n{text}"
        counts[count.group(2)] = int(count.group(1))
    return counts


def assert_summary(text: str, **expected: int) -> None:
    """The ingest summary in ``text`` has (at least) these counts."""
    counts = parse_summary(text)
    assert {key: counts.get(key) for key in expected} == expected, text

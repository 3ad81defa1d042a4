"""The 19 real Europeana records: both validators agree and give the verdict in tests/sample_table.py."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest

from enrich.validation import CompiledShapes
from tests.sample_table import EXPECTED
from tests.validation.support import keys_of, pyshacl_report, shapes_graph, to_rdflib

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared/data/edm/samples"

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"{SAMPLES} is not there")


def parse_sample(path: Path) -> tuple[list[pyoxigraph.Quad], bool]:
    """The file's quads, and whether the strict parser refused it so that it was read leniently."""
    try:
        return list(pyoxigraph.parse(path=path, format=pyoxigraph.RdfFormat.RDF_XML)), False
    except SyntaxError:
        return list(pyoxigraph.parse(path=path, format=pyoxigraph.RdfFormat.RDF_XML, lenient=True)), True


def test_the_table_lists_every_sample() -> None:
    assert sorted(path.name for path in SAMPLES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample(name: str) -> None:
    accepted, reason = EXPECTED[name]
    quads, lenient = parse_sample(SAMPLES / name)
    assert lenient == ("parsed leniently" in reason)

    conforms, results = pyshacl_report(to_rdflib(quads), shapes_graph())
    violations = CompiledShapes.edm().validate(quads)
    assert keys_of(violations) == results
    assert conforms == (not violations)

    assert reason.startswith("accepted" if accepted else "rejected")
    assert (not violations) == accepted, [violation.message for violation in violations]

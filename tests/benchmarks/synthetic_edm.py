"""Generate realistic synthetic EDM records (RDF/XML and N-Triples) for benchmarks.

Each record has ~25 triples: an edm:ProvidedCHO, its ore:Aggregation, one edm:WebResource and one
skos:Concept contextual entity, shaped like the Europeana exchange records in ``shared/data/edm``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

BASE = "http://data.example.org/synthetic"
PROVIDERS = ["Synthetic Aggregator A", "Synthetic Aggregator B", "Synthetic Aggregator C"]
MATERIALS = ["bronze", "oak", "porcelain", "silk", "paper", "marble", "glass", "silver"]
TYPES = ["IMAGE", "TEXT", "3D", "IMAGE", "IMAGE"]

RDF_XML_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:edm="http://www.europeana.eu/schemas/edm/" xmlns:ore="http://www.openarchives.org/ore/terms/" '
    'xmlns:skos="http://www.w3.org/2004/02/skos/core#">\n'
)
RDF_XML_FOOTER = "</rdf:RDF>\n"


def _fields(i: int) -> dict[str, str]:
    material = MATERIALS[i % len(MATERIALS)]
    return {
        "cho": f"{BASE}/cho/{i}",
        "agg": f"{BASE}/aggregation/{i}",
        "web": f"{BASE}/media/{i}.jpg",
        "landing": f"{BASE}/item/{i}",
        "concept": f"{BASE}/concept/{material}",
        "title": f"Object number {i} in {material} & co <synthetic>",
        "description": f"A {material} object, catalogued as item {i} of the synthetic collection.",
        "creator": f"Maker {i % 977}",
        "date": str(1500 + i % 500),
        "material": material,
        "type": TYPES[i % len(TYPES)],
        "provider": PROVIDERS[i % len(PROVIDERS)],
        "data_provider": f"Synthetic Museum {i % 41}",
    }


def record_rdf_xml(i: int) -> str:
    f = {k: escape(v) for k, v in _fields(i).items()}
    language = "\n    <dc:language>en</dc:language>" if f["type"] == "TEXT" else ""
    return f"""  <edm:ProvidedCHO rdf:about="{f["cho"]}">
    <dc:title xml:lang="en">{f["title"]}</dc:title>
    <dc:description xml:lang="en">{f["description"]}</dc:description>
    <dc:creator>{f["creator"]}</dc:creator>
    <dc:date>{f["date"]}</dc:date>
    <dc:identifier>SYN-{i}</dc:identifier>
    <dc:subject rdf:resource="{f["concept"]}"/>
    <dc:subject xml:lang="en">{f["material"]} objects</dc:subject>
    <dc:type xml:lang="en">object</dc:type>
    <dcterms:medium xml:lang="en">{f["material"]}</dcterms:medium>{language}
    <edm:type>{f["type"]}</edm:type>
  </edm:ProvidedCHO>
  <ore:Aggregation rdf:about="{f["agg"]}">
    <edm:aggregatedCHO rdf:resource="{f["cho"]}"/>
    <edm:dataProvider>{f["data_provider"]}</edm:dataProvider>
    <edm:provider>{f["provider"]}</edm:provider>
    <edm:isShownBy rdf:resource="{f["web"]}"/>
    <edm:isShownAt rdf:resource="{f["landing"]}"/>
    <edm:rights rdf:resource="http://creativecommons.org/publicdomain/zero/1.0/"/>
  </ore:Aggregation>
  <edm:WebResource rdf:about="{f["web"]}">
    <dc:format>image/jpeg</dc:format>
    <edm:rights rdf:resource="http://creativecommons.org/publicdomain/zero/1.0/"/>
  </edm:WebResource>
  <skos:Concept rdf:about="{f["concept"]}">
    <skos:prefLabel xml:lang="en">{f["material"]}</skos:prefLabel>
  </skos:Concept>
"""


def rdf_xml_document(start: int, count: int) -> Iterator[str]:
    yield RDF_XML_HEADER
    for i in range(start, start + count):
        yield record_rdf_xml(i)
    yield RDF_XML_FOOTER


def write_rdf_xml(path: Path, count: int, start: int = 0) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.writelines(rdf_xml_document(start, count))


def write_n_triples(rdf_xml_path: Path, path: Path) -> int:
    """Convert the generated RDF/XML to N-Triples with Oxigraph's own parser (the same triples)."""
    import pyoxigraph

    count = 0
    with path.open("wb") as out:
        for quad in pyoxigraph.parse(path=str(rdf_xml_path), format=pyoxigraph.RdfFormat.RDF_XML):
            out.write(f"{quad.subject} {quad.predicate} {quad.object} .\n".encode())
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path, help="output RDF/XML file; a .nt file is written beside it")
    args = parser.parse_args()
    write_rdf_xml(args.out, args.count)
    triples = write_n_triples(args.out, args.out.with_suffix(".nt"))
    print(f"{args.count} records, {triples} triples")


if __name__ == "__main__":
    main()

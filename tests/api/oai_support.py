"""OAI-PMH test helpers: a store with synthetic records, a real uvicorn server, offline XSD validation
(OAI-PMH.xsd with oai_dc.xsd, and Europeana's EDM.xsd for ``edm`` metadata)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyoxigraph
from fastapi import FastAPI
from lxml import etree
from pyoxigraph import Triple

from api.oai import router
from api.oai.metadata import OAI_DC
from api.oai.protocol import OAI
from enrich.ingest import IngestOptions, Ingestor, documents
from enrich.namespaces import ENR, XSD, Graphs
from enrich.store.base import Store
from tests.api.server import running
from tests.benchmarks.synthetic_edm import write_rdf_xml
from tests.ingest.support import BASE_IRI, make_settings, masked

GRAPHS = Graphs(BASE_IRI)
XSD_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "oai-pmh" / "xsd"
EDM_XSD_DIR = XSD_DIR.parents[1] / "edm" / "metis-schema" / "schema_xsds"
XML_XSD = EDM_XSD_DIR / "xml.xsd"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS = {"oai": OAI, "oai_dc": OAI_DC, "dc": "http://purl.org/dc/elements/1.1/", "rdf": RDF_NS}


def ingest_synthetic(store: Store, tmp_path: Path, count: int, start: int = 0, dataset: str = "synthetic") -> None:
    source = tmp_path / f"synthetic-{start}-{count}.rdf"
    write_rdf_xml(source, count, start)
    settings = make_settings()
    Ingestor(store, settings, IngestOptions(progress=False, dataset=dataset)).run(documents([str(source)]))


def set_datestamp(store: Store, record_id: str, stamp: str) -> None:
    node = f"<{GRAPHS.record_node(record_id)}>"
    store.update(
        f"DELETE WHERE {{ GRAPH <{GRAPHS.system}> {{ {node} <{ENR}datestamp> ?t }} }} ;\n"
        f'INSERT DATA {{ GRAPH <{GRAPHS.system}> {{ {node} <{ENR}datestamp> "{stamp}"^^<{XSD}dateTime> }} }}'
    )


def make_app(store: Store, page_size: int = 100, secret: str | None = None) -> FastAPI:
    app = FastAPI()
    settings = make_settings().model_copy(update={"oai_page_size": page_size, "oai_token_secret": secret})
    app.state.store = store
    app.state.settings = settings
    app.state.graphs = Graphs(settings.base_iri)
    app.include_router(router)
    return app


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """A real uvicorn on 127.0.0.1 in a thread; yields the /oai URL."""
    with running(app) as base_url:
        yield f"{base_url}/oai"


class _LocalOnly(etree.Resolver):
    """Refuses every schema document that is not a local file, so no import ever reaches the network."""

    def resolve(self, system_url: str, public_id: str, context: object) -> None:
        if "://" in system_url and not system_url.startswith("file:"):
            raise OSError(f"a schema import wants the network: {system_url}")


def load_schema(path: Path) -> etree.XMLSchema:
    """An XSD and everything it imports, read offline."""
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalOnly())
    return etree.XMLSchema(etree.parse(str(path), parser))


def edm_xsd() -> etree.XMLSchema:
    """Europeana's EDM.xsd (the external schema Metis validates providers' data against)."""
    if "edm" not in _SCHEMAS:
        _SCHEMAS["edm"] = load_schema(EDM_XSD_DIR / "EDM.xsd")
    return _SCHEMAS["edm"]


def _schema(tmp_dir: Path) -> etree.XMLSchema:
    """OAI-PMH.xsd + oai_dc.xsd, with oai_dc's network imports pointed at local copies."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    simpledc = (XSD_DIR / "simpledc20021212.xsd").read_text(encoding="utf-8")
    simpledc = simpledc.replace("http://www.w3.org/2001/03/xml.xsd", XML_XSD.as_uri())
    (tmp_dir / "simpledc.xsd").write_text(simpledc, encoding="utf-8")
    oai_dc = (XSD_DIR / "oai_dc.xsd").read_text(encoding="utf-8")
    oai_dc = oai_dc.replace("http://dublincore.org/schemas/xmls/simpledc20021212.xsd", "simpledc.xsd")
    (tmp_dir / "oai_dc.xsd").write_text(oai_dc, encoding="utf-8")
    wrapper = f"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:test:wrapper">
  <xs:import namespace="{OAI}" schemaLocation="{(XSD_DIR / "OAI-PMH.xsd").as_uri()}"/>
  <xs:import namespace="{OAI_DC}" schemaLocation="oai_dc.xsd"/>
</xs:schema>"""
    (tmp_dir / "wrapper.xsd").write_text(wrapper, encoding="utf-8")
    return load_schema(tmp_dir / "wrapper.xsd")


_SCHEMAS: dict[str, etree.XMLSchema] = {}


def validate(data: bytes, tmp_dir: Path, suggestions: bool = False) -> etree._Element:
    """Parse a response, validate it against OAI-PMH.xsd and each record's metadata against its own schema:
    oai_dc against oai_dc.xsd, edm against Europeana's EDM.xsd (the envelope's schema skips what is inside
    ``metadata``, so each is checked on its own).

    ``suggestions``: the response carries ``edm-suggestions`` metadata, RDF/XML with no XSD of its own (its
    tests parse it back instead).
    """
    if "schema" not in _SCHEMAS:
        _SCHEMAS["schema"] = _schema(tmp_dir)
    root = etree.fromstring(data)
    _SCHEMAS["schema"].assertValid(root)
    for metadata in root.iterfind(".//oai:metadata", NS):
        (child,) = metadata
        alone = etree.ElementTree(copy.deepcopy(child))  # keeps the namespaces declared above it
        if child.tag == f"{{{OAI_DC}}}dc":
            _SCHEMAS["schema"].assertValid(alone)
        elif child.tag == f"{{{RDF_NS}}}RDF" and not suggestions:
            edm_xsd().assertValid(alone)
        elif not suggestions:
            raise AssertionError(f"unexpected metadata element {child.tag}")
    return root


def stored_form(triples: Iterable[Triple]) -> list[str]:
    """Triples as an Oxigraph store gives them back (typed literals canonical, duplicates merged), blank
    node labels masked, sorted: for comparing what was written with what parses back."""
    store = pyoxigraph.Store()
    store.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in triples)
    return masked([q.triple for q in store])


def fetch(client: httpx.Client, url: str, tmp_dir: Path, *, suggestions: bool = False, **params: str) -> etree._Element:
    response = client.get(url, params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    return validate(response.content, tmp_dir, suggestions)


def harvest_pages(
    client: httpx.Client, url: str, tmp_dir: Path, *, suggestions: bool = False, **params: str
) -> list[etree._Element]:
    """Every page of a list request, following the resumption tokens; each validated on arrival."""
    verb = params["verb"]
    pages = [fetch(client, url, tmp_dir, suggestions=suggestions, **params)]
    while token := pages[-1].findtext(f"oai:{verb}/oai:resumptionToken", namespaces=NS):
        pages.append(fetch(client, url, tmp_dir, suggestions=suggestions, verb=verb, resumptionToken=token))
    return pages


def error_code(root: etree._Element) -> str | None:
    error = root.find("oai:error", NS)
    return None if error is None else error.get("code")

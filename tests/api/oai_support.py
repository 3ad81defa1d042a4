"""OAI-PMH test helpers: a store with synthetic records, a real uvicorn server, offline XSD validation."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from lxml import etree

from api.oai import router
from api.oai.metadata import OAI_DC
from api.oai.protocol import OAI
from enrich.ingest import IngestOptions, Ingestor, documents
from enrich.namespaces import ENR, XSD, Graphs
from enrich.store.base import Store
from tests.api.server import running
from tests.benchmarks.synthetic_edm import write_rdf_xml
from tests.ingest.support import BASE_IRI, make_settings

GRAPHS = Graphs(BASE_IRI)
XSD_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "oai-pmh" / "xsd"
XML_XSD = XSD_DIR.parents[1] / "edm" / "metis-schema" / "schema_xsds" / "xml.xsd"
NS = {"oai": OAI, "oai_dc": OAI_DC, "dc": "http://purl.org/dc/elements/1.1/"}


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


def _schema(tmp_dir: Path) -> etree.XMLSchema:
    """OAI-PMH.xsd + oai_dc.xsd with their network imports pointed at local copies."""
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
    return etree.XMLSchema(etree.parse(str(tmp_dir / "wrapper.xsd")))


_SCHEMAS: dict[str, etree.XMLSchema] = {}


def validate(data: bytes, tmp_dir: Path) -> etree._Element:
    """Parse a response and validate it against OAI-PMH.xsd (oai_dc metadata against oai_dc.xsd).

    EDM metadata is swapped for an empty oai_dc element first: the envelope's ``metadata`` wants a
    schema for its child (processContents="strict") and EDM.xsd validity is checked on its own.
    """
    if "schema" not in _SCHEMAS:
        _SCHEMAS["schema"] = _schema(tmp_dir)
    root = etree.fromstring(data)
    checked = copy.deepcopy(root)
    for metadata in checked.iterfind(".//oai:metadata", NS):
        child = metadata[0]
        if child.tag != f"{{{OAI_DC}}}dc":
            metadata.replace(child, etree.Element(f"{{{OAI_DC}}}dc"))
    _SCHEMAS["schema"].assertValid(checked)
    return root


def fetch(client: httpx.Client, url: str, tmp_dir: Path, **params: str) -> etree._Element:
    response = client.get(url, params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    return validate(response.content, tmp_dir)


def error_code(root: etree._Element) -> str | None:
    error = root.find("oai:error", NS)
    return None if error is None else error.get("code")

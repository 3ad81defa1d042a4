"""How the remote store reports an unreachable or unhappy server, and how open_store picks a store."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import httpx
import pytest
from pyoxigraph import Literal, NamedNode, RdfFormat, Triple

from enrich.settings import Settings
from enrich.store import QuerySyntaxError, StoreError, open_store
from enrich.store.embedded import EmbeddedStore
from enrich.store.remote import RemoteStore

GRAPH = "https://data.heritage-enrich.example/graph/record/1"


def remote_settings() -> Settings:
    """Oxigraph server's layout, whatever ENRICH_REMOTE_* the environment sets."""
    return Settings(remote_query_url=None, remote_update_url=None, remote_gsp_url=None)


@pytest.fixture
def closed_port() -> int:
    """A real 127.0.0.1 port with nothing listening: bound once to get a number, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def unreachable(closed_port: int) -> Iterator[RemoteStore]:
    remote = RemoteStore.from_base_url(f"http://127.0.0.1:{closed_port}", remote_settings())
    yield remote
    remote.close()


@pytest.fixture
def remote(oxigraph_server: str) -> Iterator[RemoteStore]:
    remote = RemoteStore.from_base_url(oxigraph_server, remote_settings())
    remote.update("DROP ALL")
    yield remote
    remote.close()


@pytest.mark.parametrize(
    ("operation", "path"),
    [
        (lambda s: s.select("SELECT * WHERE { ?s ?p ?o }"), "/query"),
        (lambda s: s.ask("ASK { ?s ?p ?o }"), "/query"),
        (lambda s: s.update("CLEAR ALL"), "/update"),
        (lambda s: s.read_graph(GRAPH), "/store"),
        (lambda s: s.delete_graph(GRAPH), "/store"),
        (lambda s: s.replace_graph(GRAPH, []), "/store"),
        (lambda s: s.bulk_load(b"", RdfFormat.N_QUADS), "/store"),
        (lambda s: s.count_triples(), "/query"),
    ],
    ids=["select", "ask", "update", "read_graph", "delete_graph", "replace_graph", "bulk_load", "count"],
)
def test_a_closed_port_raises_store_error_naming_the_url(
    unreachable: RemoteStore, closed_port: int, operation: Callable[[RemoteStore], object], path: str
) -> None:
    with pytest.raises(StoreError) as caught:
        operation(unreachable)

    message = str(caught.value)
    assert f"http://127.0.0.1:{closed_port}{path}" in message
    assert "ConnectError" in message
    assert not isinstance(caught.value, QuerySyntaxError)


def test_a_400_from_the_server_becomes_query_syntax_error_with_its_message(remote: RemoteStore) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        remote.select("SELECT ?s WHERE { ?s ?p ?o ")

    message = str(caught.value)
    assert remote.query_url in message
    assert "error at 1:" in message  # the server's own explanation, passed on
    assert "expected" in message


def test_a_400_on_an_update_becomes_query_syntax_error(remote: RemoteStore) -> None:
    with pytest.raises(QuerySyntaxError, match="Update syntax error"):
        remote.update("INSERT DATA { <urn:a> <urn:b> }")


def test_an_evaluation_failure_is_a_store_error_with_status(remote: RemoteStore) -> None:
    remote.update(f"CREATE GRAPH <{GRAPH}>")

    with pytest.raises(StoreError) as caught:
        remote.update(f"CREATE GRAPH <{GRAPH}>")

    assert not isinstance(caught.value, QuerySyntaxError)
    assert "500" in str(caught.value)
    assert remote.update_url in str(caught.value)


def test_a_wrong_endpoint_is_a_store_error_naming_url_and_status(oxigraph_server: str) -> None:
    wrong = RemoteStore(f"{oxigraph_server}/no-such-endpoint", f"{oxigraph_server}/update", f"{oxigraph_server}/store")
    try:
        with pytest.raises(StoreError) as caught:
            wrong.ask("ASK { ?s ?p ?o }")
    finally:
        wrong.close()

    assert "404" in str(caught.value)
    assert f"{oxigraph_server}/no-such-endpoint" in str(caught.value)
    assert not isinstance(caught.value, QuerySyntaxError)


def test_bulk_load_of_unparsable_data_names_the_server_answer(remote: RemoteStore) -> None:
    with pytest.raises(StoreError) as caught:
        remote.bulk_load(b'<urn:a> <urn:b> "unterminated .\n', RdfFormat.N_TRIPLES, GRAPH)

    assert "400" in str(caught.value)
    assert remote.gsp_url in str(caught.value)
    assert remote.named_graphs() == []


def test_explicit_urls_work_for_other_server_layouts(oxigraph_server: str) -> None:
    # Fuseki and GraphDB put the three services elsewhere; settings name them one by one.
    settings = Settings(
        remote_query_url=f"{oxigraph_server}/query",
        remote_update_url=f"{oxigraph_server}/update",
        remote_gsp_url=f"{oxigraph_server}/store",
    )
    with RemoteStore.from_base_url("http://127.0.0.1:9/not-used", settings) as remote:
        remote.update("DROP ALL")
        remote.replace_graph(GRAPH, [Triple(NamedNode("urn:a"), NamedNode("urn:b"), Literal("c"))])
        assert remote.count_triples(GRAPH) == 1
        assert remote.location == f"{oxigraph_server}/query"


def test_from_base_url_derives_oxigraph_layout_and_settings_override_it() -> None:
    with RemoteStore.from_base_url("http://127.0.0.1:7878/", remote_settings()) as remote:
        assert isinstance(remote, RemoteStore)
        assert (remote.query_url, remote.update_url, remote.gsp_url) == (
            "http://127.0.0.1:7878/query",
            "http://127.0.0.1:7878/update",
            "http://127.0.0.1:7878/store",
        )
        assert remote.location == "http://127.0.0.1:7878/query"

    fuseki = Settings(
        remote_query_url="http://fuseki:3030/ds/sparql",
        remote_update_url="http://fuseki:3030/ds/update",
        remote_gsp_url="http://fuseki:3030/ds/data",
    )
    with RemoteStore.from_base_url("http://fuseki:3030/ds", fuseki) as remote:
        assert isinstance(remote, RemoteStore)
        assert (remote.query_url, remote.update_url, remote.gsp_url) == (
            "http://fuseki:3030/ds/sparql",
            "http://fuseki:3030/ds/update",
            "http://fuseki:3030/ds/data",
        )


def test_close_leaves_a_client_it_was_given_open(oxigraph_server: str) -> None:
    with httpx.Client() as client:
        remote = RemoteStore(
            f"{oxigraph_server}/query", f"{oxigraph_server}/update", f"{oxigraph_server}/store", client=client
        )
        remote.close()
        assert not client.is_closed
        assert remote.ask("ASK { }")  # still usable: the client belongs to the caller


def test_open_store_picks_the_store_from_the_location(closed_port: int) -> None:
    # Opening a remote store makes no request, so a port with no server is fine here.
    with open_store(f"http://127.0.0.1:{closed_port}", remote_settings()) as remote:
        assert isinstance(remote, RemoteStore)
        assert remote.location == f"http://127.0.0.1:{closed_port}/query"
    with open_store(":memory:") as memory:
        assert isinstance(memory, EmbeddedStore)
        assert memory.location == ":memory:"

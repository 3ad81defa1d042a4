"""The store contract (DESIGN §3): every test runs on the in-memory, on-disk and remote store alike."""

from __future__ import annotations

import io
import itertools
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Triple, serialize

from enrich.store.base import QuerySyntaxError, Solution, Store, StoreError, quads_in

EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
GRAPHS = "https://data.heritage-enrich.example/graph/"
G1 = GRAPHS + "record/1"
G2 = GRAPHS + "record/2"
VOCAB = GRAPHS + "vocab/aat"
PREFIXES = f"PREFIX ex: <{EX}>\n"


def ex(local: str) -> NamedNode:
    return NamedNode(EX + local)


def typed(value: str, datatype: str) -> Literal:
    return Literal(value, datatype=NamedNode(XSD + datatype))


def t(subject: str, predicate: str, value: str) -> Triple:
    return Triple(ex(subject), ex(predicate), Literal(value))


def rich_triples() -> list[Triple]:
    """A record graph with every kind of term a provider sends us."""
    view, place = BlankNode(), BlankNode()
    record = ex("유물/1")  # an IRI with Hangul in its path
    return [
        Triple(record, ex("title"), Literal("Mona Lisa", language="en")),
        Triple(record, ex("title"), Literal("모나리자", language="ko")),
        Triple(record, ex("title"), Literal("國立中央博物館", language="ko-hani")),
        # Combining characters must come back as sent (NFD), never normalised to NFC.
        Triple(record, ex("creator"), Literal("Le\u0301onard de Vinci")),
        Triple(record, ex("creator"), Literal("\u1112\u1161\u11ab\u1100\u1173\u11af")),  # 한글 as jamo
        Triple(record, ex("note"), Literal('He said "Ha!"\nthen left;\ta \\ backslash\r\nend')),
        Triple(record, ex("created"), typed("1503", "gYear")),
        Triple(record, ex("height"), typed("77", "integer")),
        Triple(record, ex("ratio"), typed("0.69", "decimal")),
        Triple(record, ex("modified"), typed("2024-01-15T10:00:00Z", "dateTime")),
        Triple(record, ex("code"), Literal("INV-779", datatype=ex("inventoryCode"))),
        Triple(record, ex("seeAlso"), NamedNode("http://example.org/a%20b?x=1#frag")),
        Triple(record, ex("hasView"), view),
        Triple(view, ex("label"), Literal("front")),
        Triple(view, ex("format"), Literal("image/jpeg")),
        Triple(record, ex("place"), place),
        Triple(place, ex("label"), Literal("서울", language="ko")),
        Triple(view, ex("depicts"), place),  # one blank node reached from two others
    ]


def blank_nodes(triples: Iterable[Triple]) -> list[BlankNode]:
    found: dict[BlankNode, None] = {}
    for triple in triples:
        for term in (triple.subject, triple.object):
            if isinstance(term, BlankNode):
                found[term] = None
    return list(found)


def isomorphic(left: Iterable[Triple], right: Iterable[Triple]) -> bool:
    """Equal up to blank node names: SPARQL INSERT DATA and GSP uploads may rename blank nodes."""
    a, b = set(left), set(right)
    a_nodes, b_nodes = blank_nodes(a), blank_nodes(b)
    if len(a) != len(b) or len(a_nodes) != len(b_nodes):
        return False

    for permutation in itertools.permutations(b_nodes):  # tiny graphs: brute force is fine
        mapping = dict(zip(a_nodes, permutation, strict=True))
        renamed = {
            Triple(
                mapping[x.subject] if isinstance(x.subject, BlankNode) else x.subject,
                x.predicate,
                mapping[x.object] if isinstance(x.object, BlankNode) else x.object,
            )
            for x in a
        }
        if renamed == b:
            return True
    return False


def snapshot(store: Store) -> dict[str, set[Triple]]:
    """Every named graph's exact content (blank node names included)."""
    return {graph: set(store.read_graph(graph)) for graph in store.named_graphs()}


class Boom(Exception):
    pass


# -- replace_graph and transactions ----------------------------------------------------------------


def test_replace_graph_replaces_old_content_and_leaves_other_graphs(store: Store) -> None:
    store.replace_graph(G1, [t("a", "p", "old 1"), t("a", "p", "old 2")])
    store.replace_graph(G2, [t("b", "p", "other")])

    store.replace_graph(G1, [t("a", "p", "new")])

    assert set(store.read_graph(G1)) == {t("a", "p", "new")}
    assert set(store.read_graph(G2)) == {t("b", "p", "other")}


def test_replace_graph_with_nothing_leaves_no_graph(store: Store) -> None:
    store.replace_graph(G1, [t("a", "p", "old")])

    store.replace_graph(G1, [])

    assert store.read_graph(G1) == []
    assert not store.graph_exists(G1)
    assert store.named_graphs() == []


def test_replace_graph_whose_triples_fail_to_come_changes_nothing(store: Store) -> None:
    store.replace_graph(G1, rich_triples())
    before = snapshot(store)

    def producer() -> Iterator[Triple]:
        yield t("a", "p", "new 1")
        raise Boom  # e.g. the mapping of a record fails half-way

    with pytest.raises(Boom):
        store.replace_graph(G1, producer())

    assert snapshot(store) == before


def test_readers_never_see_a_half_replaced_graph(store: Store) -> None:
    size = 400
    versions = [[t(f"s{i}", "p", f"v{version}") for i in range(size)] for version in range(2)]
    store.replace_graph(G1, versions[0])
    seen: list[list[Solution]] = []
    done = threading.Event()
    query = f"SELECT ?o (COUNT(*) AS ?n) WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }} GROUP BY ?o"

    def read() -> None:
        while not done.is_set():
            seen.append(store.select(query))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for round_ in range(10):
            store.replace_graph(G1, versions[(round_ + 1) % 2])
    finally:
        done.set()
        reader.join()

    count = Literal(str(size), datatype=NamedNode(XSD + "integer"))
    whole = [[{"o": Literal(f"v{version}"), "n": count}] for version in range(2)]
    assert seen
    assert all(rows in whole for rows in seen)


def test_transaction_applies_every_change(store: Store) -> None:
    store.replace_graph(G1, [t("a", "p", "old")])

    with store.transaction() as tx:
        tx.replace_graph(G1, [t("a", "p", "new")])
        tx.add([Quad(ex("b"), ex("p"), Literal("added"), NamedNode(G2))])
        tx.update(f"INSERT DATA {{ GRAPH <{VOCAB}> {{ <{EX}c> <{EX}p> 'updated' }} }}")

    assert set(store.read_graph(G1)) == {t("a", "p", "new")}
    assert set(store.read_graph(G2)) == {t("b", "p", "added")}
    assert set(store.read_graph(VOCAB)) == {t("c", "p", "updated")}


def test_exception_inside_transaction_changes_nothing(store: Store) -> None:
    store.replace_graph(G1, rich_triples())
    store.replace_graph(G2, [t("b", "p", "kept")])
    before = snapshot(store)

    with pytest.raises(Boom), store.transaction() as tx:
        tx.replace_graph(G1, [t("a", "p", "new")])
        tx.drop_graph(G2)
        raise Boom

    assert snapshot(store) == before


def test_syntax_error_after_valid_operations_changes_nothing(store: Store) -> None:
    store.replace_graph(G1, rich_triples())
    before = snapshot(store)

    with pytest.raises(QuerySyntaxError), store.transaction() as tx:
        tx.replace_graph(G1, [t("a", "p", "new")])
        tx.add([Quad(ex("b"), ex("p"), Literal("added"), NamedNode(G2))])
        tx.update("INSERT DATA { GRAPH <urn:g> { <urn:s> <urn:p> ")

    assert snapshot(store) == before


def test_failing_operation_after_valid_operations_changes_nothing(store: Store) -> None:
    store.replace_graph(G1, rich_triples())
    store.replace_graph(G2, [t("b", "p", "kept")])
    before = snapshot(store)

    # Parses fine but fails while running: CREATE GRAPH (without SILENT) of an existing graph.
    with pytest.raises(StoreError) as caught, store.transaction() as tx:
        tx.replace_graph(G1, [t("a", "p", "new")])
        tx.drop_graph(VOCAB)
        tx.update(f"CREATE GRAPH <{G2}>")

    assert not isinstance(caught.value, QuerySyntaxError)
    assert G2 in str(caught.value)
    assert snapshot(store) == before


# -- reading graphs back ---------------------------------------------------------------------------


@pytest.mark.parametrize("write", ["replace_graph", "add", "bulk_load"])
def test_read_graph_round_trips_every_kind_of_term(store: Store, write: str) -> None:
    triples = rich_triples()
    if write == "replace_graph":
        store.replace_graph(G1, triples)
    elif write == "add":
        store.add(quads_in(G1, triples))
    else:
        store.bulk_load(serialize(triples, format=RdfFormat.N_TRIPLES) or b"", RdfFormat.N_TRIPLES, G1)

    back = store.read_graph(G1)

    assert all(isinstance(x, Triple) for x in back)
    assert isomorphic(back, triples)
    # Terms without blank nodes come back identical, value for value.
    ground = {x for x in triples if not blank_nodes([x])}
    assert {x for x in back if not blank_nodes([x])} == ground
    notes = [x.object for x in back if x.predicate == ex("note")]
    assert notes == [Literal('He said "Ha!"\nthen left;\ta \\ backslash\r\nend')]
    assert Literal("Le\u0301onard de Vinci") in {x.object for x in back}


def test_read_graph_of_an_unknown_graph_is_empty(store: Store) -> None:
    store.replace_graph(G1, [t("a", "p", "x")])

    assert store.read_graph(G2) == []


def test_every_store_canonicalises_literals_the_same_way(store: Store) -> None:
    # Oxigraph keeps numbers as values and language tags in lower case, so the lexical form sent is
    # not always the one read back (checksums must be taken over what the store returns).
    store.replace_graph(
        G1,
        [
            Triple(ex("a"), ex("n"), typed("007", "integer")),
            Triple(ex("a"), ex("d"), typed("1.50", "decimal")),
            Triple(ex("a"), ex("t"), Literal("x", language="EN-gb")),
        ],
    )

    assert set(store.read_graph(G1)) == {
        Triple(ex("a"), ex("n"), typed("7", "integer")),
        Triple(ex("a"), ex("d"), typed("1.5", "decimal")),
        Triple(ex("a"), ex("t"), Literal("x", language="en-gb")),
    }


def test_delete_graph_removes_only_that_graph(store: Store) -> None:
    store.replace_graph(G1, [t("a", "p", "1"), t("a", "p", "2")])
    store.replace_graph(G2, [t("b", "p", "kept")])
    store.bulk_load(b"<http://example.org/d> <http://example.org/p> 'default' .", RdfFormat.TURTLE)

    store.delete_graph(G1)

    assert store.read_graph(G1) == []
    assert not store.graph_exists(G1)
    assert set(store.read_graph(G2)) == {t("b", "p", "kept")}
    assert store.named_graphs() == [G2]
    assert store.ask(PREFIXES + "ASK { ex:d ex:p 'default' }")
    assert store.count_triples() == 2


def test_delete_graph_of_an_unknown_graph_is_not_an_error(store: Store) -> None:
    store.delete_graph(G1)

    assert store.named_graphs() == []


# -- queries and updates ---------------------------------------------------------------------------


def load_people(store: Store) -> None:
    store.bulk_load(
        f"""
        @prefix ex: <{EX}> .
        @prefix xsd: <{XSD}> .
        <{G1}> {{ ex:a ex:name "이순신"@ko ; ex:born "1545"^^xsd:gYear ; ex:knows [ ex:name "anon" ] . }}
        <{G2}> {{ ex:b ex:name "Yi Sun-sin"@en . ex:c ex:born "1600"^^xsd:gYear . }}
        """,
        RdfFormat.TRIG,
    )


def test_select_gives_terms_and_leaves_unbound_variables_out(store: Store) -> None:
    load_people(store)

    rows = store.select(
        PREFIXES
        + """SELECT DISTINCT ?g ?s ?name ?born WHERE {
               GRAPH ?g { ?s ?p ?o OPTIONAL { ?s ex:name ?name } OPTIONAL { ?s ex:born ?born } }
               FILTER(isIRI(?s))
           } ORDER BY ?s"""
    )

    assert rows == [
        {
            "g": NamedNode(G1),
            "s": ex("a"),
            "name": Literal("이순신", language="ko"),
            "born": typed("1545", "gYear"),
        },
        {"g": NamedNode(G2), "s": ex("b"), "name": Literal("Yi Sun-sin", language="en")},
        {"g": NamedNode(G2), "s": ex("c"), "born": typed("1600", "gYear")},
    ]


def test_select_binds_blank_nodes_and_can_be_empty(store: Store) -> None:
    load_people(store)

    rows = store.select(
        PREFIXES + "SELECT ?friend ?name WHERE { GRAPH ?g { ex:a ex:knows ?friend . ?friend ex:name ?name } }"
    )

    assert len(rows) == 1
    assert isinstance(rows[0]["friend"], BlankNode)
    assert rows[0]["name"] == Literal("anon")
    assert store.select(PREFIXES + "SELECT ?s WHERE { ?s ex:nothing ?o }") == []


def test_ask(store: Store) -> None:
    load_people(store)

    assert store.ask(PREFIXES + f"ASK {{ GRAPH <{G1}> {{ ex:a ex:name ?n }} }}") is True
    assert store.ask(PREFIXES + f"ASK {{ GRAPH <{G2}> {{ ex:a ex:name ?n }} }}") is False


def test_construct(store: Store) -> None:
    load_people(store)

    triples = store.construct(
        PREFIXES + "CONSTRUCT { ?s ex:label ?name } WHERE { GRAPH ?g { ?s ex:name ?name FILTER(isIRI(?s)) } }"
    )

    assert set(triples) == {
        Triple(ex("a"), ex("label"), Literal("이순신", language="ko")),
        Triple(ex("b"), ex("label"), Literal("Yi Sun-sin", language="en")),
    }
    assert all(isinstance(x, Triple) for x in triples)


def test_each_query_method_wants_its_own_query_form(store: Store) -> None:
    with pytest.raises(StoreError, match="SELECT"):
        store.select("ASK { ?s ?p ?o }")
    with pytest.raises(StoreError, match="ASK"):
        store.ask("SELECT * WHERE { ?s ?p ?o }")
    with pytest.raises(StoreError, match="CONSTRUCT"):
        store.construct("SELECT * WHERE { ?s ?p ?o }")


def test_update(store: Store) -> None:
    store.update(PREFIXES + f"INSERT DATA {{ GRAPH <{G1}> {{ ex:a ex:p 'one', 'two' }} }}")
    store.update(
        PREFIXES + f"DELETE {{ GRAPH <{G1}> {{ ?s ex:p 'two' }} }} "
        f"INSERT {{ GRAPH <{G2}> {{ ?s ex:p 'moved' }} }} WHERE {{ GRAPH <{G1}> {{ ?s ex:p 'two' }} }}"
    )

    assert set(store.read_graph(G1)) == {t("a", "p", "one")}
    assert set(store.read_graph(G2)) == {t("a", "p", "moved")}


def test_add_and_remove(store: Store) -> None:
    store.add(quads_in(G1, [t("a", "p", "1"), t("a", "p", "2")]))

    store.remove(quads_in(G1, [t("a", "p", "1")]))

    assert set(store.read_graph(G1)) == {t("a", "p", "2")}


def test_malformed_query_raises_query_syntax_error_naming_the_problem(store: Store) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        store.select("SELECT ?s WHERE { ?s ex:title ?o }")  # the ex: prefix is never declared

    message = str(caught.value)
    assert "syntax error" in message.lower()
    assert "Prefix not found" in message
    assert "1:30" in message  # line:column of the undeclared prefix
    assert isinstance(caught.value, ValueError)


def test_malformed_update_raises_query_syntax_error_and_changes_nothing(store: Store) -> None:
    store.replace_graph(G1, [t("a", "p", "kept")])

    with pytest.raises(QuerySyntaxError, match=r"(?i)update syntax error"):
        store.update(f"DROP GRAPH <{G1}> ; INSERT DATA {{ GRAPH <{G1}> {{ ex:a ex:p 'x' }} }}")

    assert set(store.read_graph(G1)) == {t("a", "p", "kept")}


# -- bulk loading ----------------------------------------------------------------------------------


NQUADS = f"""<{EX}a> <{EX}p> "in one" <{G1}> .
<{EX}a> <{EX}p> "in two"@ko <{G2}> .
_:x <{EX}p> <{EX}a> <{G2}> .
<{EX}d> <{EX}p> "in the default graph" .
""".encode()


def test_bulk_load_nquads_keeps_their_graphs(store: Store) -> None:
    store.bulk_load(NQUADS, RdfFormat.N_QUADS)

    assert set(store.read_graph(G1)) == {t("a", "p", "in one")}
    assert isomorphic(
        store.read_graph(G2),
        [Triple(ex("a"), ex("p"), Literal("in two", language="ko")), Triple(BlankNode(), ex("p"), ex("a"))],
    )
    assert store.named_graphs() == [G1, G2]
    assert store.ask(PREFIXES + "ASK { ex:d ex:p 'in the default graph' }")
    assert store.count_triples() == 4


def test_bulk_load_quads_with_a_graph_puts_default_graph_quads_there(store: Store) -> None:
    store.bulk_load(NQUADS, RdfFormat.N_QUADS, graph=VOCAB)

    assert set(store.read_graph(VOCAB)) == {t("d", "p", "in the default graph")}
    assert set(store.read_graph(G1)) == {t("a", "p", "in one")}
    assert store.count_triples() == 4
    assert store.count_triples() == sum(store.count_triples(g) for g in store.named_graphs())


def test_bulk_load_turtle_into_a_named_graph(store: Store) -> None:
    turtle = """
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        @prefix aat: <http://vocab.getty.edu/aat/> .
        aat:300033618 a skos:Concept ;
            skos:prefLabel "paintings (visual works)"@en, "회화"@ko ;
            skos:broader aat:300033973 .
    """

    store.bulk_load(turtle, RdfFormat.TURTLE, graph=VOCAB)

    aat = "http://vocab.getty.edu/aat/"
    skos = "http://www.w3.org/2004/02/skos/core#"
    assert set(store.read_graph(VOCAB)) == {
        Triple(
            NamedNode(aat + "300033618"),
            NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
            NamedNode(skos + "Concept"),
        ),
        Triple(
            NamedNode(aat + "300033618"),
            NamedNode(skos + "prefLabel"),
            Literal("paintings (visual works)", language="en"),
        ),
        Triple(NamedNode(aat + "300033618"), NamedNode(skos + "prefLabel"), Literal("회화", language="ko")),
        Triple(NamedNode(aat + "300033618"), NamedNode(skos + "broader"), NamedNode(aat + "300033973")),
    }
    assert store.named_graphs() == [VOCAB]
    assert store.count_triples() == 4  # nothing landed in the default graph


def test_bulk_load_ntriples_from_a_path(store: Store, tmp_path: Path) -> None:
    # Big enough to be sent in several chunks by the remote store.
    path = tmp_path / "many.nt"
    count = 30_000
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            out.write(f'<{EX}s/{i}> <{EX}label> "레코드 {i}"@ko .\n')

    store.bulk_load(path, RdfFormat.N_TRIPLES, graph=G1)

    assert store.count_triples(G1) == count
    assert store.ask(PREFIXES + f"ASK {{ GRAPH <{G1}> {{ <{EX}s/29999> ex:label '레코드 29999'@ko }} }}")


def test_bulk_load_from_a_binary_stream_into_the_default_graph(store: Store) -> None:
    data = io.BytesIO(f'<{EX}a> <{EX}p> "streamed" .\n'.encode())

    store.bulk_load(data, RdfFormat.N_TRIPLES)

    assert store.named_graphs() == []
    assert store.select(PREFIXES + "SELECT ?o WHERE { ex:a ex:p ?o }") == [{"o": Literal("streamed")}]


def test_bulk_load_of_broken_data_raises_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="line 2"):
        store.bulk_load(f'<{EX}a> <{EX}p> "ok" .\n<{EX}a> <{EX}p> "broken .\n', RdfFormat.N_TRIPLES, G1)


# -- counts and graph listing ----------------------------------------------------------------------


def test_count_triples_per_graph_and_overall(store: Store) -> None:
    store.replace_graph(G1, [t("a", "p", "1"), t("a", "p", "2"), t("a", "p", "3")])
    store.replace_graph(G2, [t("b", "p", "1"), t("b", "p", "2")])
    store.bulk_load(f'<{EX}d> <{EX}p> "default" .'.encode(), RdfFormat.N_TRIPLES)

    assert store.count_triples(G1) == 3
    assert store.count_triples(G2) == 2
    assert store.count_triples(VOCAB) == 0
    assert store.count_triples() == 6


def test_count_graphs_by_prefix(store: Store) -> None:
    for graph in (G1, G2, VOCAB):
        store.replace_graph(graph, [t("a", "p", graph)])

    assert store.count_graphs(GRAPHS + "record/") == 2
    assert store.count_graphs(GRAPHS) == 3
    assert store.count_graphs() == 3
    assert store.count_graphs("urn:nothing") == 0
    assert store.count_graphs('say "hi" \\') == 0  # quotes and backslashes are escaped


def test_named_graphs_lists_only_graphs_that_hold_triples(store: Store) -> None:
    for graph in (VOCAB, G2, G1):
        store.replace_graph(graph, [t("a", "p", "x")])
    store.bulk_load(f'<{EX}d> <{EX}p> "default" .'.encode(), RdfFormat.N_TRIPLES)

    assert store.named_graphs() == sorted([G1, G2, VOCAB])

    store.remove(quads_in(G2, [t("a", "p", "x")]))  # emptied, not dropped
    store.delete_graph(VOCAB)

    assert store.named_graphs() == [G1]


def test_graph_exists(store: Store) -> None:
    assert not store.graph_exists(G1)

    store.replace_graph(G1, [t("a", "p", "x")])
    store.replace_graph(G2, [t("a", "p", "x")])

    assert store.graph_exists(G1)
    assert not store.graph_exists(VOCAB)

    store.delete_graph(G1)
    store.remove(quads_in(G2, [t("a", "p", "x")]))

    assert not store.graph_exists(G1)
    assert not store.graph_exists(G2)

"""The provenance writer: the only code that turns ``Suggestion`` values into triples (DESIGN §4).

A batch becomes suggestion nodes in ``…/graph/suggestions/{record}``; each run is one ``prov:Activity`` in
``…/graph/runs`` with its enrichers, model cards, vocabulary snapshot, record selection and counts.

Identity is the triple (``Suggestion.suggestion_id``):

- a new triple becomes a Pending node;
- a Pending node seen again is updated: its confidence becomes the latest run's (models are recalibrated
  between runs, so the newest estimate is the one to trust; within one batch, agreeing enrichers give the
  highest of their confidences), while evidence, enrichers and generating runs accumulate (RDF sets, so
  nothing is duplicated);
- a node in any other status is frozen; a Rejected triple is never suggested again (``skipped_rejected``).

Every batch is checked against the rules of ``shapes/suggestions.ttl`` before anything is written (see
``check_suggestions``); an invalid batch writes nothing and raises ``InvalidSuggestionBatch``.

Writing a batch takes four steps:

1. look up what the store holds of its nodes: one existence check per record's suggestions graph and, only
   in graphs that exist, status and confidence per node with ``Store.objects_of`` (direct index look-ups
   in the embedded store; a small SELECT per graph and predicate on a remote one);
2. check the batch (nothing is written before);
3. one bulk load (N-Quads) of everything the batch adds except what step 4 sets: the new nodes whole but
   their status, and the runs, enrichers and evidence that pending nodes gain;
4. one atomic update: the new nodes' Pending status, and the pending nodes' confidence replaced.

After a crash. The status is the commit mark: review lists and this writer only take a node with a status
for a suggestion. A bulk load has no transaction, so a crash during step 3 can leave any part of it, and a
crash before step 4 has run leaves every new node of the batch without a status. Writing the batch again
(in the same run or a later one) completes it: a node without a status counts as new and is loaded whole
again (RDF sets: what is there already is not duplicated), and a confidence the crash left behind that is
not the new one is deleted in step 4. A pending node only gains set members before step 4, and its
confidence changes in step 4 alone. What the crashed write left stays: its run in ``prov:wasGeneratedBy``
of the nodes it reached (it did generate them), and the nodes it left without a status count as new again.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple

from enrich.ingest.journal import now_literal, string_literal
from enrich.namespaces import ENR, PROV, RDF, RDF_TYPE, XSD, Graphs
from enrich.store.base import Store, Term, text
from enrich.suggestion import ModelCard, Status, Suggestion

FACET_BASE = "https://w3id.org/heritage-enrich/facet/"
_XSD_DECIMAL = XSD + "decimal"
_XSD_DOUBLE = XSD + "double"
_RDF_LANG_STRING = RDF + "langString"
_STATUSES = frozenset(status.iri for status in Status)
_PENDING = Status.PENDING.iri
_REJECTED = Status.REJECTED.iri
_STATUS = ENR + "status"
_CONFIDENCE = ENR + "confidence"
_TYPE = f"<{RDF_TYPE}>"
_RECEIPT_OF = ENR + "receiptOf"
_RECEIPT_KEY = ENR + "receiptKey"
_RECEIPT_COUNTS = ENR + "receiptCounts"

# Rule names: the local names of the shapes in shapes/suggestions.ttl (enrshape:…).
RULE_CONFIDENCE = "SuggestionConfidence"
RULE_STATUS = "SuggestionStatus"
RULE_ACTIVITY = "SuggestionGeneratedByModelRun"
RULE_LANGUAGE = "SuggestionLiteralLanguage"
RULE_VOCABULARY = "SuggestionObjectInFacet"


def facet_iri(facet: str) -> str:
    return facet if facet.startswith(FACET_BASE) else FACET_BASE + facet


# --- checking -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One suggestion node that breaks one rule of shapes/suggestions.ttl."""

    node: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.node}: {self.rule}: {self.detail}"


class InvalidSuggestionBatch(ValueError):
    """A batch broke the suggestion shapes; nothing of it was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:20])
        more = f"\n  … and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"{len(self.problems)} problem(s) in the suggestion batch, nothing written:\n{shown}{more}")

    def __reduce__(self) -> tuple[type[InvalidSuggestionBatch], tuple[tuple[Problem, ...]]]:
        return (InvalidSuggestionBatch, (self.problems,))  # pickled across processes (Ray workers)


@dataclass(frozen=True, slots=True)
class SuggestionFacts:
    """What the rules read off one suggestion node (terms as pyoxigraph values)."""

    node: str
    confidences: tuple[Literal | NamedNode, ...]
    statuses: tuple[str, ...]
    activities: tuple[str, ...]
    facets: tuple[str, ...]
    objects: tuple[NamedNode | Literal, ...]


def check_suggestions(
    nodes: Iterable[SuggestionFacts],
    activities_with_model: frozenset[str] | set[str],
    allowed: Mapping[str, frozenset[str]] | None,
) -> list[Problem]:
    """The rules of shapes/suggestions.ttl in Python; ``allowed`` maps a facet IRI to its concept IRIs.

    ``allowed=None`` leaves the vocabulary rule out (a caller that has no facet vocabularies loaded).
    """
    problems: list[Problem] = []
    for facts in nodes:
        node = facts.node
        if len(facts.confidences) != 1:
            problems.append(Problem(node, RULE_CONFIDENCE, f"{len(facts.confidences)} confidences, not exactly one"))
        for confidence in facts.confidences:
            if not isinstance(confidence, Literal) or confidence.datatype.value not in (_XSD_DECIMAL, _XSD_DOUBLE):
                problems.append(Problem(node, RULE_CONFIDENCE, f"{confidence} is not an xsd:decimal or xsd:double"))
                continue
            try:
                number = float(confidence.value)
            except ValueError:
                number = float("nan")
            if not 0.0 <= number <= 1.0:
                problems.append(Problem(node, RULE_CONFIDENCE, f"{confidence.value} is outside [0, 1]"))
        if len(facts.statuses) != 1 or facts.statuses[0] not in _STATUSES:
            problems.append(Problem(node, RULE_STATUS, f"status {list(facts.statuses)} is not exactly one of the list"))
        if not facts.activities:
            problems.append(Problem(node, RULE_ACTIVITY, "no prov:wasGeneratedBy"))
        for activity in facts.activities:
            if activity not in activities_with_model:
                problems.append(Problem(node, RULE_ACTIVITY, f"the activity <{activity}> has no model card"))
        for value in facts.objects:
            if isinstance(value, Literal):
                if value.language is None:
                    problems.append(Problem(node, RULE_LANGUAGE, f"the literal {value} has no language tag"))
            elif allowed is not None and not any(value.value in allowed.get(f, ()) for f in facts.facets):
                problems.append(Problem(node, RULE_VOCABULARY, f"<{value.value}> is outside {list(facts.facets)}"))
    return problems


def facts_from_triples(triples: Iterable[Triple | Quad]) -> tuple[list[SuggestionFacts], set[str]]:
    """Read suggestion nodes and the activities that account for them out of triples (graph names ignored):
    a run with a model card, or a review (a reviewer's correction is generated by the review itself)."""
    by_node: dict[str, dict[str, list[NamedNode | Literal]]] = {}
    suggestions: list[str] = []
    for t in triples:
        if isinstance(t.subject, NamedNode) and isinstance(t.object, NamedNode | Literal):
            by_node.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(t.object)
            if t.predicate.value == RDF_TYPE and t.object.value == ENR + "Suggestion":
                suggestions.append(t.subject.value)
    with_model = {
        node
        for node, props in by_node.items()
        if any(
            isinstance(agent, NamedNode) and ENR + "modelName" in by_node.get(agent.value, {})
            for agent in props.get(PROV + "wasAssociatedWith", ())
        )
        or any(kind.value == ENR + "Review" for kind in props.get(RDF_TYPE, ()))
    }
    facts = []
    for node in suggestions:
        props = by_node[node]
        facts.append(
            SuggestionFacts(
                node=node,
                confidences=tuple(props.get(ENR + "confidence", ())),
                statuses=tuple(v.value for v in props.get(ENR + "status", ())),
                activities=tuple(v.value for v in props.get(PROV + "wasGeneratedBy", ())),
                facets=tuple(v.value for v in props.get(ENR + "facet", ())),
                objects=tuple(props.get(RDF + "object", ())),
            )
        )
    return facts, with_model


# --- runs and counts ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WriteCounts:
    new: int = 0
    updated: int = 0
    skipped_rejected: int = 0
    skipped_frozen: int = 0

    def as_json(self) -> dict[str, int]:
        return {
            "new": self.new,
            "updated": self.updated,
            "skipped_rejected": self.skipped_rejected,
            "skipped_frozen": self.skipped_frozen,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, int]) -> WriteCounts:
        return cls(data["new"], data["updated"], data["skipped_rejected"], data["skipped_frozen"])

    def __add__(self, other: WriteCounts) -> WriteCounts:
        return WriteCounts(
            self.new + other.new,
            self.updated + other.updated,
            self.skipped_rejected + other.skipped_rejected,
            self.skipped_frozen + other.skipped_frozen,
        )


@dataclass(frozen=True, slots=True)
class RunHandle:
    run_id: str
    iri: str
    model_cards: tuple[ModelCard, ...]
    enrichers: tuple[str, ...] = field(default=())


def _decimal(value: float) -> str:
    lexical = repr(float(value))
    if "e" in lexical or "n" in lexical:  # 1e-05, inf, nan: xsd:decimal has no exponent
        lexical = format(Decimal(lexical), "f")
    return f'"{lexical}"^^<{_XSD_DECIMAL}>'


def _object(suggestion: Suggestion) -> str:
    value = suggestion.value
    if value.is_iri:
        return f"<{value.value}>"
    return f"{string_literal(value.value)}@{value.language}"


@dataclass(slots=True)
class _Merged:
    """One triple of a batch, with what every agreeing suggestion brought."""

    node: str
    graph: str  # the suggestions graph of the first suggestion's record
    first: Suggestion
    confidence: float
    enrichers: dict[str, None]
    evidence: dict[str, None]


@dataclass(frozen=True, slots=True)
class _Stored:
    """What the store already holds of a node: its statuses and confidences (one of each, when whole)."""

    statuses: frozenset[str]
    confidences: tuple[Term, ...]


class ProvenanceWriter:
    """Writes suggestion batches and run activities into a store.

    ``allowed`` maps a facet id (or facet IRI) to the concept IRIs of its vocabulary subtree; an IRI
    suggestion outside it is refused. Without it the vocabulary rule is not checked.
    """

    def __init__(self, store: Store, graphs: Graphs, allowed: Mapping[str, frozenset[str]] | None = None) -> None:
        self.store = store
        self.graphs = graphs
        self.allowed = None if allowed is None else {facet_iri(k): v for k, v in allowed.items()}
        self._runs_graph = f"<{graphs.runs}>"

    # -- runs ------------------------------------------------------------------------------------------

    def start_run(
        self,
        enrichers: Sequence[str],
        model_cards: Sequence[ModelCard],
        selection: str,
        vocabulary_snapshot: str,
        run_id: str | None = None,
    ) -> RunHandle:
        run_id = run_id or uuid.uuid4().hex
        run = RunHandle(run_id, self.graphs.run(run_id), tuple(model_cards), tuple(enrichers))
        node = f"<{run.iri}>"
        lines = [
            f"{node} <{RDF_TYPE}> <{PROV}Activity> , <{ENR}EnrichmentRun> .",
            f"{node} <{PROV}startedAtTime> {now_literal()} .",
            f"{node} <{ENR}recordSelection> {string_literal(selection)} .",
            f"{node} <{ENR}vocabularySnapshot> {string_literal(vocabulary_snapshot)} .",
        ]
        lines += [f"{node} <{ENR}enricherName> {string_literal(name)} ." for name in enrichers]
        for card in model_cards:
            agent = f"<{self.graphs.model_card(card_id(card))}>"
            lines += [
                f"{node} <{PROV}wasAssociatedWith> {agent} .",
                f"{agent} <{RDF_TYPE}> <{PROV}SoftwareAgent> .",
                f"{agent} <{ENR}modelName> {string_literal(card.name)} .",
                f"{agent} <{ENR}modelVersion> {string_literal(card.version)} .",
                f"{agent} <{ENR}configHash> {string_literal(card.config_hash)} .",
            ]
        self.store.update(f"INSERT DATA {{ GRAPH {self._runs_graph} {{\n" + "\n".join(lines) + "\n} }")
        return run

    def finish(self, run: RunHandle, counts: WriteCounts) -> None:
        """Mark the run ended with its counts; its batch receipts (if any) are dropped in the same update."""
        node = f"<{run.iri}>"
        self.store.update(
            f"DELETE WHERE {{ GRAPH {self._runs_graph} {{ ?receipt <{_RECEIPT_OF}> {node} ; ?p ?o }} }} ;\n"
            f"INSERT DATA {{ GRAPH {self._runs_graph} {{ {node} <{PROV}endedAtTime> {now_literal()} ; "
            f"<{ENR}newCount> {counts.new} ; <{ENR}updatedCount> {counts.updated} ; "
            f"<{ENR}skippedRejectedCount> {counts.skipped_rejected} ; "
            f"<{ENR}skippedFrozenCount> {counts.skipped_frozen} . }} }}"
        )

    # -- batch receipts --------------------------------------------------------------------------------

    def receipt_iri(self, run: RunHandle, key: str) -> str:
        return f"{run.iri}/batch/{hashlib.sha256(key.encode('utf-8')).hexdigest()[:24]}"

    def receipt_counts(self, run: RunHandle, key: str) -> WriteCounts | None:
        """The counts a write with this receipt key recorded, or ``None`` when no such write completed."""
        rows = self.store.select(
            f"SELECT ?counts WHERE {{ GRAPH {self._runs_graph} {{ <{self.receipt_iri(run, key)}> "
            f"<{_RECEIPT_OF}> <{run.iri}> ; <{_RECEIPT_COUNTS}> ?counts }} }}"
        )
        if not rows:
            return None
        return WriteCounts.from_json(json.loads(text(rows[0]["counts"])))

    # -- suggestions -----------------------------------------------------------------------------------

    def write(self, run: RunHandle, suggestions: Sequence[Suggestion], receipt: str | None = None) -> WriteCounts:
        """Write one batch; with a ``receipt`` key the write is idempotent in its counts too.

        Without a receipt, writing a batch again leaves the same triples but counts its new suggestions as
        updated the second time. With one, the counts go into the runs graph in the same atomic update that
        commits the batch (step 4), and a write whose receipt is there returns those counts and writes
        nothing: a worker that died after committing but before answering can be retried and the run's
        summary is that of a run where nothing died. ``finish`` drops the run's receipts.
        """
        if receipt is not None and (done := self.receipt_counts(run, receipt)) is not None:
            return done
        merged = _merge(suggestions, self.graphs)
        stored = self._stored(merged)
        rejected = frozen = 0
        new: list[_Merged] = []
        updated: list[_Merged] = []
        for item in merged:
            state = stored.get(item.node)
            if state is None or not state.statuses:  # never written, or left without its status by a crash
                new.append(item)
            elif state.statuses == {_PENDING}:
                updated.append(item)
            elif _REJECTED in state.statuses:
                rejected += 1
            else:
                frozen += 1
        counts = WriteCounts(len(new), len(updated), rejected, frozen)
        self._check(run, new + updated)
        self._load(run, new, updated)
        receipt_block = self._receipt_block(run, receipt, counts) if receipt is not None else None
        self._commit(new, updated, stored, receipt_block)
        return counts

    def _receipt_block(self, run: RunHandle, key: str, counts: WriteCounts) -> str:
        counts_json = json.dumps(counts.as_json(), sort_keys=True)
        node = f"<{self.receipt_iri(run, key)}>"
        return (
            f"INSERT DATA {{ GRAPH {self._runs_graph} {{ {node} {_TYPE} <{ENR}BatchReceipt> ; "
            f"<{_RECEIPT_OF}> <{run.iri}> ; <{_RECEIPT_KEY}> {string_literal(key)} ; "
            f"<{_RECEIPT_COUNTS}> {string_literal(counts_json)} . }} }}"
        )

    def _stored(self, items: Sequence[_Merged]) -> dict[str, _Stored]:
        """What the store holds of the batch's nodes, by node IRI; nodes it holds nothing of are left out.

        Look-ups per node in its record's graph (``Store.objects_of``: direct index look-ups in the embedded
        store), and none at all in a record's graph that does not exist yet (the common case of a first
        run). A SPARQL join over a VALUES block of nodes would scan the store instead, and slow down as it
        fills up.
        """
        by_graph: dict[str, list[str]] = {}
        for item in items:
            by_graph.setdefault(item.graph, []).append(item.node)
        stored: dict[str, _Stored] = {}
        for graph, nodes in by_graph.items():
            if not self.store.graph_exists(graph):
                continue
            statuses = {
                node: frozenset(text(term) for term in terms)
                for node, terms in self.store.objects_of(nodes, _STATUS, graph).items()
            }
            # Frozen nodes keep their confidence; pending ones get a new one; a node without a status may
            # hold a confidence that a crashed write left behind.
            open_nodes = [node for node in nodes if statuses.get(node, frozenset()) <= {_PENDING}]
            confidences = self.store.objects_of(open_nodes, _CONFIDENCE, graph) if open_nodes else {}
            for node in nodes:
                if node in statuses or node in confidences:
                    stored[node] = _Stored(statuses.get(node, frozenset()), tuple(confidences.get(node, ())))
        return stored

    def _check(self, run: RunHandle, items: Sequence[_Merged]) -> None:
        activities = {run.iri} if run.model_cards else set()
        double = NamedNode(_XSD_DOUBLE)
        facts = (
            SuggestionFacts(
                node=item.node,
                confidences=(Literal(repr(item.confidence), datatype=double),),
                statuses=(_PENDING,),
                activities=(run.iri,),
                facets=(facet_iri(item.first.facet),),
                objects=(
                    NamedNode(item.first.value.value)
                    if item.first.value.is_iri
                    else Literal(item.first.value.value, language=item.first.value.language),
                ),
            )
            for item in items
        )
        problems = check_suggestions(facts, activities, self.allowed)
        if problems:
            raise InvalidSuggestionBatch(problems)

    def _load(self, run: RunHandle, new: Sequence[_Merged], updated: Sequence[_Merged]) -> None:
        """One bulk load of what the batch adds, except what ``_commit`` sets: statuses, changed confidences."""
        generated_by = f"<{PROV}wasGeneratedBy> <{run.iri}>"
        out: list[str] = []
        for is_new, items in ((True, new), (False, updated)):
            for item in items:
                node, graph = f"<{item.node}>", f"<{item.graph}> .\n"
                if is_new:
                    s = item.first
                    out += (
                        f"{node} {_TYPE} <{ENR}Suggestion> {graph}",
                        f"{node} {_TYPE} <{RDF}Statement> {graph}",
                        f"{node} <{RDF}subject> <{s.subject}> {graph}",
                        f"{node} <{RDF}predicate> <{s.predicate}> {graph}",
                        f"{node} <{RDF}object> {_object(s)} {graph}",
                        f"{node} <{ENR}record> <{self.graphs.record_node(s.record_id)}> {graph}",
                        f"{node} <{ENR}facet> <{facet_iri(s.facet)}> {graph}",
                        f"{node} <{_CONFIDENCE}> {_decimal(item.confidence)} {graph}",
                    )
                out.append(f"{node} {generated_by} {graph}")
                out += [f"{node} <{ENR}enricher> {string_literal(name)} {graph}" for name in item.enrichers]
                out += [f"{node} <{ENR}evidence> {string_literal(text)} {graph}" for text in item.evidence]
        if out:
            # Lenient: record IRIs are written as the provider wrote them, and real EDM has IRIs with spaces
            # (ingest keeps them). Everything else here is built by us; language tags are checked in
            # SuggestedValue.
            self.store.bulk_load("".join(out).encode("utf-8"), RdfFormat.N_QUADS, lenient=True)

    def _commit(
        self,
        new: Sequence[_Merged],
        updated: Sequence[_Merged],
        stored: Mapping[str, _Stored],
        receipt_block: str | None = None,
    ) -> None:
        """One atomic update: the new nodes' Pending status, confidences replaced by the latest run's, and the
        batch's receipt when there is one."""
        deletes: dict[str, list[str]] = {}
        inserts: dict[str, list[str]] = {}
        for is_new, items in ((True, new), (False, updated)):
            for item in items:
                node = f"<{item.node}>"
                old = stored[item.node].confidences if item.node in stored else ()
                stale = [term for term in old if not _is_number(term, item.confidence)]
                if stale:
                    deletes.setdefault(item.graph, []).extend(f"{node} <{_CONFIDENCE}> {term} ." for term in stale)
                if is_new:  # its confidence came with the bulk load
                    inserts.setdefault(item.graph, []).append(f"{node} <{_STATUS}> <{_PENDING}> .")
                elif len(stale) == len(old):  # none of the old confidences is the new one
                    line = f"{node} <{_CONFIDENCE}> {_decimal(item.confidence)} ."
                    inserts.setdefault(item.graph, []).append(line)
        operations = [
            f"{verb} {{\n{_graph_blocks(lines)}\n}}"
            for verb, lines in (("DELETE DATA", deletes), ("INSERT DATA", inserts))
            if lines
        ]
        if receipt_block is not None:
            operations.append(receipt_block)
        if operations:
            self.store.update(" ;\n".join(operations))


def _graph_blocks(lines_by_graph: Mapping[str, list[str]]) -> str:
    return "\n".join(f"GRAPH <{graph}> {{\n" + "\n".join(lines) + "\n}" for graph, lines in lines_by_graph.items())


def _is_number(term: Term, number: float) -> bool:
    """Whether a stored confidence is ``number`` (Oxigraph gives a decimal back canonical: 1.0 as "1")."""
    if not isinstance(term, Literal) or term.datatype.value not in (_XSD_DECIMAL, _XSD_DOUBLE):
        return False
    try:
        return float(term.value) == number
    except ValueError:
        return False


def card_id(card: ModelCard) -> str:
    """A stable id for a model card (the same name, version and config hash is the same agent)."""
    key = f"{card.name}\n{card.version}\n{card.config_hash}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def _merge(suggestions: Iterable[Suggestion], graphs: Graphs) -> list[_Merged]:
    merged: dict[str, _Merged] = {}
    for s in suggestions:
        sid = s.suggestion_id
        item = merged.get(sid)
        if item is None:
            merged[sid] = _Merged(
                graphs.suggestion_node(sid),
                graphs.suggestions(s.record_id),
                s,
                s.confidence,
                {s.enricher: None},
                dict.fromkeys(s.evidence),
            )
        else:
            item.confidence = max(item.confidence, s.confidence)
            item.enrichers[s.enricher] = None
            item.evidence.update(dict.fromkeys(s.evidence))
    return list(merged.values())

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

Writing costs one SELECT (VALUES) per 1000 ids for the existing state, then one atomic update for the nodes
that change and one bulk load (N-Quads) for the new ones. A bulk load has no transaction: if it dies
half-way, re-running the batch completes the partial nodes (they carry no status yet, so they count as new).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple

from enrich.ingest.journal import now_literal, string_literal
from enrich.namespaces import ENR, PROV, RDF, RDF_TYPE, XSD, Graphs
from enrich.store.base import Store, text
from enrich.suggestion import ModelCard, Status, Suggestion

FACET_BASE = "https://w3id.org/heritage-enrich/facet/"
_XSD_DECIMAL = XSD + "decimal"
_XSD_DOUBLE = XSD + "double"
_RDF_LANG_STRING = RDF + "langString"
_STATUSES = frozenset(status.iri for status in Status)
_IDS_PER_SELECT = 1000

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
    """Read suggestion nodes and the activities that have a model card out of triples (graph names ignored)."""
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

    sid: str
    first: Suggestion
    confidence: float
    enrichers: dict[str, None]
    evidence: dict[str, None]


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
        node = f"<{run.iri}>"
        self.store.update(
            f"INSERT DATA {{ GRAPH {self._runs_graph} {{ {node} <{PROV}endedAtTime> {now_literal()} ; "
            f"<{ENR}newCount> {counts.new} ; <{ENR}updatedCount> {counts.updated} ; "
            f"<{ENR}skippedRejectedCount> {counts.skipped_rejected} ; "
            f"<{ENR}skippedFrozenCount> {counts.skipped_frozen} . }} }}"
        )

    # -- suggestions -----------------------------------------------------------------------------------

    def write(self, run: RunHandle, suggestions: Sequence[Suggestion]) -> WriteCounts:
        merged = _merge(suggestions)
        existing = self._existing(list(merged.values()))
        rejected = frozen = 0
        new: list[_Merged] = []
        updated: list[tuple[_Merged, Literal | None]] = []
        for sid, item in merged.items():
            state = existing.get(self.graphs.suggestion_node(sid))
            if state is None:
                new.append(item)
            elif state[0] == Status.PENDING.iri:
                updated.append((item, state[1]))
            elif state[0] == Status.REJECTED.iri:
                rejected += 1
            else:
                frozen += 1
        self._check(run, new + [item for item, _ in updated])
        self._write_updates(run, updated)
        self._write_new(run, new)
        return WriteCounts(len(new), len(updated), rejected, frozen)

    def _existing(self, items: Sequence[_Merged]) -> dict[str, tuple[str, Literal | None]]:
        """Status and confidence of the nodes that exist already, one SELECT per slice of ids.

        Each id is looked up in its own record's graph: with ``GRAPH ?g`` the query slows down as the
        store fills up, with the graph bound it is an index look-up.
        """
        pairs = [
            (self.graphs.suggestion_node(item.sid), self.graphs.suggestions(item.first.record_id)) for item in items
        ]
        found: dict[str, tuple[str, Literal | None]] = {}
        for start in range(0, len(pairs), _IDS_PER_SELECT):
            values = " ".join(f"(<{node}> <{graph}>)" for node, graph in pairs[start : start + _IDS_PER_SELECT])
            rows = self.store.select(
                f"SELECT ?s ?status ?confidence WHERE {{ VALUES (?s ?g) {{ {values} }} GRAPH ?g {{ "
                f"?s <{ENR}status> ?status OPTIONAL {{ ?s <{ENR}confidence> ?confidence }} }} }}"
            )
            for row in rows:
                confidence = row.get("confidence")
                found[text(row["s"])] = (text(row["status"]), confidence if isinstance(confidence, Literal) else None)
        return found

    def _check(self, run: RunHandle, items: Sequence[_Merged]) -> None:
        activities = {run.iri} if run.model_cards else set()
        pending = Status.PENDING.iri
        facts = (
            SuggestionFacts(
                node=self.graphs.suggestion_node(item.sid),
                confidences=(Literal(repr(item.confidence), datatype=NamedNode(_XSD_DOUBLE)),),
                statuses=(pending,),
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

    def _node_lines(self, run: RunHandle, item: _Merged, node: str) -> list[str]:
        """The triples an item adds to its node, whether new or updated (confidence and status aside)."""
        lines = [f"{node} <{PROV}wasGeneratedBy> <{run.iri}> ."]
        lines += [f"{node} <{ENR}enricher> {string_literal(name)} ." for name in item.enrichers]
        lines += [f"{node} <{ENR}evidence> {string_literal(text)} ." for text in item.evidence]
        return lines

    def _write_updates(self, run: RunHandle, updated: Sequence[tuple[_Merged, Literal | None]]) -> None:
        if not updated:
            return
        with self.store.transaction() as tx:
            for item, old_confidence in updated:
                graph = f"<{self.graphs.suggestions(item.first.record_id)}>"
                node = f"<{self.graphs.suggestion_node(item.sid)}>"
                if old_confidence is not None:
                    tx.update(f"DELETE DATA {{ GRAPH {graph} {{ {node} <{ENR}confidence> {old_confidence} }} }}")
                lines = self._node_lines(run, item, node)
                lines.append(f"{node} <{ENR}confidence> {_decimal(item.confidence)} .")
                tx.update(f"INSERT DATA {{ GRAPH {graph} {{\n" + "\n".join(lines) + "\n} }")

    def _write_new(self, run: RunHandle, new: Sequence[_Merged]) -> None:
        if not new:
            return
        out: list[str] = []
        pending = f"<{Status.PENDING.iri}>"
        for item in new:
            s = item.first
            graph = f"<{self.graphs.suggestions(s.record_id)}>"
            node = f"<{self.graphs.suggestion_node(item.sid)}>"
            lines = [
                f"{node} <{RDF_TYPE}> <{ENR}Suggestion> .",
                f"{node} <{RDF_TYPE}> <{RDF}Statement> .",
                f"{node} <{RDF}subject> <{s.subject}> .",
                f"{node} <{RDF}predicate> <{s.predicate}> .",
                f"{node} <{RDF}object> {_object(s)} .",
                f"{node} <{ENR}record> <{self.graphs.record_node(s.record_id)}> .",
                f"{node} <{ENR}facet> <{facet_iri(s.facet)}> .",
                f"{node} <{ENR}confidence> {_decimal(item.confidence)} .",
                f"{node} <{ENR}status> {pending} .",
                *self._node_lines(run, item, node),
            ]
            out += [line[:-1] + graph + " ." for line in lines]
        self.store.bulk_load("\n".join(out).encode("utf-8"), RdfFormat.N_QUADS)


def card_id(card: ModelCard) -> str:
    """A stable id for a model card (the same name, version and config hash is the same agent)."""
    key = f"{card.name}\n{card.version}\n{card.config_hash}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def _merge(suggestions: Iterable[Suggestion]) -> dict[str, _Merged]:
    merged: dict[str, _Merged] = {}
    for s in suggestions:
        sid = s.suggestion_id
        item = merged.get(sid)
        if item is None:
            merged[sid] = _Merged(sid, s, s.confidence, {s.enricher: None}, dict.fromkeys(s.evidence))
        else:
            item.confidence = max(item.confidence, s.confidence)
            item.enrichers[s.enricher] = None
            item.evidence.update(dict.fromkeys(s.evidence))
    return merged

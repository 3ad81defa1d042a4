"""English prompts from a record: what it is called and described as, its period, material and object type.

English text comes first from the record itself (``@en`` or ``en-…`` literals); a field without English
text takes an English translation suggestion of it (pending or approved, from the record's suggestions
graph), and the prompt's evidence says so: CATS found English prompts gave consistent images where the
original Korean did not. Period, material and type are English literals or the English labels of the
concepts the record names (contextual entities or vocabulary concepts, from any graph).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from enrich.enrichers.base import FieldValue, RecordView
from enrich.ingest.journal import string_literal
from enrich.namespaces import DC, DCTERMS, ENR, RDF, SKOS, Graphs
from enrich.store.base import Store, text
from enrich.suggestion import Status

#: Text fields, in prompt order (the title names the object; the description adds to it).
TEXT_FIELDS = (DC + "title", DC + "description")
#: Qualifying fields, in prompt order, and how each is named in evidence.
QUALIFIERS = {DC + "type": "type", DCTERMS + "medium": "material", DCTERMS + "temporal": "period"}
#: Statuses whose translation suggestions count: still to be reviewed, or accepted.
USABLE = (Status.PENDING, Status.APPROVED, Status.AUTO_ACCEPTED)
#: A description longer than this is cut at a word: diffusion text encoders read 77 tokens.
MAX_DESCRIPTION_CHARS = 200
READS = frozenset((*TEXT_FIELDS, *QUALIFIERS))


@dataclass(frozen=True, slots=True)
class Prompt:
    record_id: str
    cho: str
    text: str
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Translation:
    text: str
    node: str
    status: str


def is_english(value: FieldValue) -> bool:
    language = (value.language or "").lower()
    return language == "en" or language.startswith("en-")


def translations(store: Store, graphs: Graphs, records: Sequence[RecordView]) -> dict[tuple[str, str], Translation]:
    """English suggestions for the records' titles and descriptions, by (record id, predicate); the first
    by status (approved before pending) then text, so the choice is stable."""
    if not records:
        return {}
    rows = " ".join(f"(<{graphs.suggestions(v.record_id)}> <{v.cho}> {string_literal(v.record_id)})" for v in records)
    statuses = " ".join(f"<{status.iri}>" for status in USABLE)
    fields = " ".join(f"<{p}>" for p in TEXT_FIELDS)
    query = f"""SELECT ?rid ?p ?o ?node ?status WHERE {{
  VALUES (?g ?cho ?rid) {{ {rows} }} VALUES ?p {{ {fields} }} VALUES ?status {{ {statuses} }}
  GRAPH ?g {{ ?node a <{ENR}Suggestion> ; <{RDF}subject> ?cho ; <{RDF}predicate> ?p ; <{RDF}object> ?o ;
              <{ENR}status> ?status . FILTER(isLiteral(?o) && langMatches(lang(?o), "en")) }}
}} ORDER BY ?rid ?p ?status ?o"""
    out: dict[tuple[str, str], Translation] = {}
    for row in store.select(query):
        key = (text(row["rid"]), text(row["p"]))
        status = text(row["status"]).removeprefix(ENR)
        found = Translation(text(row["o"]), text(row["node"]), status)
        best = out.get(key)
        if best is None or (best.status != Status.APPROVED.value and status == Status.APPROVED.value):
            out[key] = found
    return out


def concept_labels(store: Store, concepts: Sequence[str]) -> dict[str, str]:
    """An English (else language-less) skos:prefLabel of each concept, from whichever graph has one."""
    if not concepts:
        return {}
    values = " ".join(f"<{c}>" for c in sorted(set(concepts)))
    query = (
        f"SELECT ?c ?label WHERE {{ VALUES ?c {{ {values} }} GRAPH ?g {{ ?c <{SKOS}prefLabel> ?label }} "
        f'FILTER(langMatches(lang(?label), "en") || lang(?label) = "") }} ORDER BY ?c DESC(lang(?label)) ?label'
    )
    labels: dict[str, str] = {}
    for row in store.select(query):
        labels.setdefault(text(row["c"]), text(row["label"]))
    return labels


def _shorten(value: str, limit: int = MAX_DESCRIPTION_CHARS) -> str:
    value = " ".join(value.split())
    if len(value) <= limit:
        return value
    return value[:limit].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def build_prompt(
    view: RecordView,
    found: Mapping[tuple[str, str], Translation],
    labels: Mapping[str, str],
    suffix: str,
) -> Prompt | None:
    """The record's prompt, or ``None`` when it has no English title or description to start from."""
    parts: list[str] = []
    evidence: list[str] = []
    for predicate in TEXT_FIELDS:
        name = "dc:" + predicate.removeprefix(DC)
        english = sorted({v.text.strip() for v in view.literals(predicate) if is_english(v) and v.text.strip()})
        if english:
            parts.append(_shorten(english[0]))
            evidence.append(f"{name}@en (original): {english[0]}")
        elif (view.record_id, predicate) in found:
            translation = found[(view.record_id, predicate)]
            parts.append(_shorten(translation.text))
            evidence.append(
                f"{name}@en (translation suggestion {translation.node}, {translation.status}): {translation.text}"
            )
    if not parts:
        return None
    qualifiers: list[str] = []
    for predicate, role in QUALIFIERS.items():
        words: list[str] = []
        for value in view.values.get(predicate, ()):
            label = labels.get(value.text) if value.is_iri else value.text.strip()
            if label and (value.is_iri or value.language is None or is_english(value)) and label not in words:
                words.append(label)
        if words:
            qualifiers.append(f"{role}: {', '.join(sorted(words))}")
            evidence.append(f"{role}: {', '.join(sorted(words))}")
    prompt = ". ".join(part.rstrip(".") for part in parts)
    if qualifiers:
        prompt += ". " + "; ".join(qualifiers)
    if suffix:
        prompt += ". " + suffix
    return Prompt(view.record_id, view.cho, prompt, tuple(evidence))


def record_prompts(store: Store, graphs: Graphs, records: Sequence[RecordView], suffix: str) -> list[Prompt]:
    """Prompts for the records that have English text (original or suggested), in the records' order."""
    found = translations(store, graphs, records)
    concepts = [v.text for view in records for p in QUALIFIERS for v in view.values.get(p, ()) if v.is_iri]
    labels = concept_labels(store, concepts)
    prompts = [build_prompt(view, found, labels, suffix) for view in records]
    return [prompt for prompt in prompts if prompt is not None]

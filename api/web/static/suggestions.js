// One suggestion on the record page, wherever it sits (a node of a facet tree, or beside a provider's
// field for a translation): its label, rank, confidence, status, action buttons and evidence (shown on
// hover and on focus). `items` maps suggestion ids to what the page knows of them.
import { el, percent, t } from "./app.js";

export const items = new Map();
const evidenceById = new Map();

function actionButton(action, label, shortcut) {
  return el(
    "button",
    {
      type: "button",
      class: `act act-${action}`,
      dataset: { action },
      "aria-label": t(`action.${action}_named`, { label }),
      "aria-keyshortcuts": shortcut,
    },
    t(`action.${action}`),
  );
}

/** The element of one suggestion: {id, status, confidence, label, kind ("concept"|"literal"), facet, rank…}. */
export function renderSuggestion(suggestion) {
  const item = { ...suggestion };
  const evidenceId = `evidence-${item.id}`;
  const shown =
    item.kind === "literal"
      ? [el("span", { class: "s-value", lang: item.language || null }, item.value), " ",
         el("span", { class: "lang-tag" }, item.language || "")]
      : [el("span", { class: "s-value" }, item.label)];
  const node = el(
    "div",
    {
      class: `suggestion ${item.kind}`,
      tabindex: "-1",
      role: "group",
      "aria-label": t(item.kind === "literal" ? "suggestion.literal_named" : "suggestion.named", { label: item.label }),
      "aria-describedby": evidenceId,
      dataset: { id: item.id, kind: item.kind, facet: item.facet || "" },
      style: { "--confidence": item.confidence ?? 0 },
    },
    el(
      "div",
      { class: "s-head" },
      item.kind === "literal" ? el("span", { class: "s-kind" }, t("suggestion.translation")) : null,
      ...shown,
      item.rank ? el("span", { class: "rank" }, t("suggestion.rank", { rank: item.rank })) : null,
    ),
    el(
      "div",
      { class: "s-meta" },
      el("span", { class: "bar", "aria-hidden": "true" }),
      el("span", { class: "confidence" }, t("suggestion.confidence", { percent: percent(item.confidence) })),
      el("span", { class: "status" }),
    ),
    el(
      "div",
      { class: "actions" },
      actionButton("approve", item.label, "a"),
      actionButton("reject", item.label, "r"),
      item.kind === "concept" ? actionButton("correct", item.label, "c") : null,
    ),
    el("div", { class: "evidence", role: "tooltip", id: evidenceId }, t("common.loading")),
  );
  item.node = node;
  items.set(item.id, item);
  showStatus(item);
  fillEvidence(item);
  return node;
}

function showStatus(item) {
  item.node.dataset.status = item.status;
  item.node.querySelector(".status").textContent = t(`status.${item.status}`);
}

/** Record a status (the server's answer, or an optimistic guess to be confirmed or rolled back); a
 * "statuschange" event on the document tells the page (its counts) what moved. */
export function setStatus(id, status) {
  const item = items.get(id);
  if (!item || item.status === status) return;
  const before = item.status;
  item.status = status;
  showStatus(item);
  document.dispatchEvent(new CustomEvent("statuschange", { detail: { item, before, after: status } }));
}

// Lexical evidence reads: dc:title "Still life with grapes": span "grapes" = prefLabel "Grapes"@en
const LEXICAL = /^(\S+) "(.*)": span "(.*)" = (.*)$/;

function evidenceLine(text) {
  const match = LEXICAL.exec(text);
  if (!match) return el("li", {}, text);
  const [, field, context, span, label] = match;
  const at = context.toLowerCase().indexOf(span.toLowerCase());
  const quoted =
    at < 0
      ? [context]
      : [context.slice(0, at), el("mark", {}, context.slice(at, at + span.length)), context.slice(at + span.length)];
  return el("li", {}, t("evidence.matched", { field }), " “", ...quoted, "” → ", label);
}

function fillEvidence(item) {
  const box = item.node.querySelector(".evidence");
  const found = evidenceById.get(item.id);
  if (!found) {
    if (evidenceById.size) box.replaceChildren(el("p", {}, t("evidence.none")));
    return;
  }
  const row = (key, values) => el("div", {}, el("strong", {}, `${t(key)}: `), values.length ? values.join(", ") : "–");
  box.replaceChildren(
    el("strong", {}, t("evidence.title")),
    found.evidence.length ? el("ul", {}, found.evidence.map(evidenceLine)) : el("p", {}, t("evidence.none")),
    row("evidence.enricher", found.enrichers),
    row("evidence.model", found.models),
  );
}

/** Evidence by suggestion id, from /ui/api/records/{id}/evidence; fills the items already shown. */
export function setEvidence(bySuggestion) {
  evidenceById.clear();
  evidenceById.set("", null); // marks it loaded, even when the record has none
  for (const [id, found] of Object.entries(bySuggestion)) evidenceById.set(id, found);
  for (const item of items.values()) fillEvidence(item);
}

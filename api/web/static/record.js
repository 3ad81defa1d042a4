// The record page: loads the facet trees and evidence, and runs the review: approve, reject with a reason,
// correct (another concept, from the tree or by label search), approve all above a threshold, undo; with
// keyboard shortcuts. Changes show at once and are rolled back when the API refuses them; a 409 (someone
// else decided first) says so and shows the suggestion's current status.
import { api, notify, pageData, problemText, t } from "./app.js";
import { askConcept, askReason, dialogOpen, showHelp } from "./dialogs.js";
import { items, renderSuggestion, setEvidence, setStatus } from "./suggestions.js";
import { loadRecordTree } from "./tree.js";

const record = pageData.record;
const undoStack = [];
let current = null;

// -- showing -----------------------------------------------------------------------------------------
function renderLiteral() {
  for (const slot of document.querySelectorAll(".literal-suggestions")) {
    const own = (pageData.literal || []).filter((s) => s.predicate === slot.dataset.predicate);
    slot.replaceChildren(...own.map((s) => renderSuggestion({ ...s, label: s.value, kind: "literal" })));
  }
}

function treeOf(facet) {
  return document.querySelector(`.tree[data-facet="${CSS.escape(facet)}"]`);
}

// A facet's counts (its total and pending suggestions, the server's at page load) follow what the page
// does; a tree read again after a correction brings the facet's new total.
function showCounts(section) {
  const { total, pending } = section.dataset;
  section.querySelector(".facet-counts").textContent = t("record.facet_counts", { total, pending });
}

document.addEventListener("statuschange", ({ detail: { item, before, after } }) => {
  const section = item.kind === "concept" && document.querySelector(`.facet[data-facet="${CSS.escape(item.facet)}"]`);
  if (!section || (before === "Pending") === (after === "Pending")) return;
  section.dataset.pending = String(Number(section.dataset.pending) + (after === "Pending" ? 1 : -1));
  showCounts(section);
});

async function reloadTree(facet) {
  const container = treeOf(facet);
  if (container) {
    const total = await loadRecordTree(container, record, pageData.labels, renderSuggestion);
    const section = container.closest(".facet");
    if (total !== null && section) {
      section.dataset.total = String(total);
      showCounts(section);
    }
  }
  rove();
}

async function loadEvidence() {
  const answer = await api(`/ui/api/records/${encodeURIComponent(record)}/evidence`);
  setEvidence(answer.ok ? answer.data.suggestions : {});
}

// -- moving between suggestions (a roving tabindex: the current one is the group Tab reaches) ------------
function suggestionNodes() {
  return [...document.querySelectorAll(".suggestion")];
}

function rove() {
  const nodes = suggestionNodes();
  if (!nodes.some((node) => node.dataset.id === current)) current = nodes[0]?.dataset.id ?? null;
  for (const node of nodes) node.tabIndex = node.dataset.id === current ? 0 : -1;
}

function focusItem(id) {
  current = id;
  rove();
  const item = items.get(id);
  if (item) {
    item.node.focus();
    item.node.scrollIntoView({ block: "nearest" });
  }
}

function move(step) {
  const nodes = suggestionNodes();
  if (!nodes.length) return;
  const at = nodes.findIndex((node) => node.dataset.id === current);
  let to = at;
  if (at < 0) to = step > 0 ? 0 : nodes.length - 1;
  else if (nodes[at].contains(document.activeElement)) to = Math.min(nodes.length - 1, Math.max(0, at + step));
  // else: the first press goes to the current suggestion itself
  focusItem(nodes[to].dataset.id);
}

/** After a decision, on to the next pending suggestion (if any). */
function advance() {
  const nodes = suggestionNodes();
  const at = nodes.findIndex((node) => node.dataset.id === current);
  const next = nodes.slice(at + 1).find((node) => node.dataset.status === "Pending");
  if (next) focusItem(next.dataset.id);
}

function currentItem() {
  const focused = document.activeElement?.closest?.(".suggestion");
  const id = focused ? focused.dataset.id : current;
  return id ? items.get(id) : null;
}

// -- acting -------------------------------------------------------------------------------------------
function send(id, action, body, expected) {
  return api(`/suggestions/${encodeURIComponent(id)}/${action}`, {
    method: "POST",
    body: { ...body, expected_status: expected },
  });
}

function refused(item, answer) {
  if (answer.status === 409) {
    const now = answer.data?.current_status;
    if (now) setStatus(item.id, now);
    const status = now ? t(`status.${now}`) : t("status.gone");
    notify(t("msg.conflict", { label: item.label, status }), "error");
  } else {
    notify(problemText(answer), "error");
  }
}

/** One review action on a pending suggestion: shown at once, confirmed or rolled back by the answer. */
async function decide(item, action, body, shown) {
  if (item.status !== "Pending") {
    notify(t("msg.not_pending", { label: item.label, status: t(`status.${item.status}`) }), "error");
    return null;
  }
  const before = item.status;
  setStatus(item.id, shown);
  const answer = await send(item.id, action, body, before);
  if (answer.ok) {
    setStatus(item.id, answer.data.suggestion.status);
    return answer.data;
  }
  setStatus(item.id, before);
  refused(item, answer);
  return null;
}

async function approve(item) {
  if (await decide(item, "approve", {}, "Approved")) {
    undoStack.push({
      label: item.label,
      shown: "Pending",
      steps: [[item.id, "retract", "Approved"], [item.id, "reopen", "Retracted"]],
    });
    notify(t("msg.approved", { label: item.label }));
    advance();
  }
}

async function reject(item, reason) {
  if (await decide(item, "reject", { reason }, "Rejected")) {
    undoStack.push({ label: item.label, shown: "Pending", steps: [[item.id, "reopen", "Rejected"]] });
    notify(t("msg.rejected", { label: item.label, reason: t(`reason.${reason}`) }));
    advance();
  }
}

async function correct(item, concept, label) {
  const done = await decide(item, "correct", { concept }, "Superseded");
  if (done) {
    const created = done.review.created;
    undoStack.push({ label: item.label, facet: item.facet, steps: created ? [[created, "retract", "Approved"]] : [] });
    await reloadTree(item.facet);
    notify(t("msg.corrected", { label: item.label, concept: label }));
    focusItem(item.id);
  }
}

/** Undo the last action: its retract/reopen steps, each a recorded review event. An approval or rejection
 * is shown undone at once (`shown`); a correction once its tree is read again. */
async function undo() {
  const last = undoStack.pop();
  if (!last) {
    notify(t("msg.nothing_to_undo"));
    return;
  }
  const restore = new Map(last.steps.map(([id]) => [id, items.get(id)?.status]));
  if (last.shown) for (const [id] of last.steps) setStatus(id, last.shown);
  for (const [id, action, expected] of last.steps) {
    const answer = await send(id, action, {}, expected);
    if (!answer.ok) {
      for (const [rid, status] of restore) if (status) setStatus(rid, status);
      refused(items.get(id) || { id, label: last.label }, answer);
      return;
    }
    setStatus(id, answer.data.suggestion.status);
  }
  if (last.facet) await reloadTree(last.facet);
  notify(t("msg.undone", { label: last.label }));
}

async function approveAll(threshold) {
  const affected = [...items.values()].filter(
    (item) => item.status === "Pending" && item.confidence !== null && item.confidence >= threshold,
  );
  for (const item of affected) setStatus(item.id, "Approved");
  const answer = await api("/suggestions/bulk", {
    method: "POST",
    body: { action: "approve", filter: { min_confidence: threshold, record } },
  });
  if (!answer.ok) {
    for (const item of affected) setStatus(item.id, "Pending");
    notify(problemText(answer), "error");
    return;
  }
  const moved = answer.data.moved || [];
  for (const id of moved) setStatus(id, "Approved");
  // Shown as approved but not moved: someone else decided them meanwhile; ask what they are now.
  for (const item of affected.filter((i) => !moved.includes(i.id))) {
    const now = await api(`/suggestions/${encodeURIComponent(item.id)}`);
    setStatus(item.id, now.ok ? now.data.status : "Pending");
  }
  if (moved.length) {
    undoStack.push({
      label: t("msg.bulk_label", { count: moved.length }),
      shown: "Pending",
      steps: moved.flatMap((id) => [[id, "retract", "Approved"], [id, "reopen", "Retracted"]]),
    });
  }
  notify(t("msg.bulk", { count: answer.data.done }));
}

function openReject(item) {
  if (item.status !== "Pending") {
    notify(t("msg.not_pending", { label: item.label, status: t(`status.${item.status}`) }), "error");
    return;
  }
  askReason(item, (reason) => reject(item, reason));
}

function openCorrect(item) {
  if (item.kind !== "concept") {
    notify(t("msg.only_concepts"), "error");
    return;
  }
  if (item.status !== "Pending") {
    notify(t("msg.not_pending", { label: item.label, status: t(`status.${item.status}`) }), "error");
    return;
  }
  askConcept(item, (concept, label) => correct(item, concept, label));
}

// -- wiring --------------------------------------------------------------------------------------------
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  const item = button && items.get(button.closest(".suggestion")?.dataset.id);
  if (!item) return;
  current = item.id;
  rove();
  if (button.dataset.action === "approve") approve(item);
  else if (button.dataset.action === "reject") openReject(item);
  else if (button.dataset.action === "correct") openCorrect(item);
});

document.addEventListener("focusin", (event) => {
  const node = event.target.closest?.(".suggestion");
  if (node && node.dataset.id !== current) {
    current = node.dataset.id;
    rove();
  }
});

document.getElementById("undo").addEventListener("click", undo);
document.getElementById("show-help").addEventListener("click", showHelp);
document.getElementById("approve-all").addEventListener("submit", (event) => {
  event.preventDefault();
  approveAll(Number(document.getElementById("threshold").value));
});

const TYPING = new Set(["INPUT", "SELECT", "TEXTAREA"]);

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (TYPING.has(event.target.tagName) || event.target.isContentEditable) return;
  if (dialogOpen()) return;
  const act = (handler) => {
    event.preventDefault();
    const item = currentItem();
    if (item) handler(item);
    else notify(t("msg.no_selection"), "error");
  };
  switch (event.key) {
    case "j":
      event.preventDefault();
      move(1);
      break;
    case "k":
      event.preventDefault();
      move(-1);
      break;
    case "a":
      act(approve);
      break;
    case "r":
      act(openReject);
      break;
    case "c":
      act(openCorrect);
      break;
    case "u":
      event.preventDefault();
      undo();
      break;
    case "?":
      event.preventDefault();
      showHelp();
      break;
    default:
  }
});

renderLiteral();
const trees = [...document.querySelectorAll(".tree[data-facet]")].map((container) =>
  loadRecordTree(container, record, pageData.labels, renderSuggestion),
);
Promise.all([loadEvidence(), ...trees]).then(() => {
  rove();
  document.body.dataset.ready = "true";
});

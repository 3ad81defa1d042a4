// The record page's dialogs: the reason for a rejection, the concept for a correction (label search or
// the facet's tree), the keyboard help. Each says what was chosen through a callback; focus goes back to
// the suggestion when a dialog closes without a choice.
import { api, detailOf, el, pageData, t } from "./app.js";
import { browseTree } from "./tree.js";

const rejectDialog = document.getElementById("reject-dialog");
const correctDialog = document.getElementById("correct-dialog");
const helpDialog = document.getElementById("help-dialog");
let rejecting = null; // {item, done}
let correcting = null;

/** Ask for a reason from the controlled list; `done(reason)` when the reviewer rejects. */
export function askReason(item, done) {
  rejecting = { item, done };
  document.getElementById("reject-title").textContent = t("dialog.reject.title_for", { label: item.label });
  rejectDialog.returnValue = "";
  rejectDialog.showModal();
  rejectDialog.querySelector("input[name=reason]:checked")?.focus();
}

rejectDialog.addEventListener("close", () => {
  const asked = rejecting;
  rejecting = null;
  if (!asked) return;
  asked.item.node.focus();
  if (rejectDialog.returnValue === "reject") asked.done(rejectDialog.querySelector("input[name=reason]:checked").value);
});

/** Ask for the concept to approve instead; `done(iri, label)` when one is chosen. */
export function askConcept(item, done) {
  correcting = { item, done };
  document.getElementById("correct-title").textContent = t("dialog.correct.title_for", { label: item.label });
  document.getElementById("correct-results").replaceChildren();
  document.getElementById("correct-q").value = "";
  correctDialog.returnValue = "";
  correctDialog.showModal();
  document.getElementById("correct-q").focus();
  browseTree(document.getElementById("correct-tree"), item.facet, pageData.labels, choose);
}

function choose(concept, label) {
  const asked = correcting;
  correctDialog.close("chosen");
  if (asked) asked.done(concept, label);
}

correctDialog.addEventListener("close", () => {
  const asked = correcting;
  correcting = null;
  if (asked && correctDialog.returnValue !== "chosen") asked.item.node.focus();
});

function hit(found) {
  return el(
    "li",
    {},
    el(
      "button",
      {
        type: "button",
        class: "choose",
        "aria-label": t("dialog.correct.choose", { label: found.label }),
        onclick: () => choose(found.iri, found.label),
      },
      found.label,
    ),
    " ",
    el("span", { class: "path" }, found.path.map((step) => step.label).join(" › ")),
  );
}

document.getElementById("correct-search").addEventListener("submit", async (event) => {
  event.preventDefault();
  const results = document.getElementById("correct-results");
  const q = document.getElementById("correct-q").value.trim();
  if (!correcting || !q) return;
  const query = new URLSearchParams({ q, facet: correcting.item.facet, lang: pageData.labels, limit: "20" });
  const answer = await api(`/vocab/search?${query}`);
  if (!answer.ok) {
    results.replaceChildren(el("li", { class: "error" }, detailOf(answer)));
    return;
  }
  const found = answer.data.results;
  results.replaceChildren(...(found.length ? found.map(hit) : [el("li", {}, t("dialog.correct.no_results"))]));
});

export function showHelp() {
  helpDialog.showModal();
}

export function dialogOpen() {
  return document.querySelector("dialog[open]") !== null;
}

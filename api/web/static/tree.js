// Vocabulary trees. On the record page: a facet's tree pruned to the branches of the record's ten best
// suggestions (GET /vocab/facets/{facet}/tree?record=…&top=10&pruned=true), branches open and closing on
// click (<details>). In the correction dialog: the whole facet, one level at a time (aria-expanded buttons).
import { api, detailOf, el, t } from "./app.js";

function treeNode(node, facet, render) {
  const suggestions = (node.suggestions || []).map((s) =>
    render({ ...s, label: node.label, kind: "concept", facet, rank: node.top, iri: node.iri }),
  );
  const classes = ["node", node.top ? "top" : "", node.guide ? "guide" : ""].filter(Boolean).join(" ");
  const label = el("span", { class: "concept", title: node.iri }, node.label);
  // A leaf with suggestions is named by them; a branch keeps its label as the summary that opens it.
  if (!node.children.length) return el("li", { class: classes }, suggestions.length ? null : label, ...suggestions);
  return el(
    "li",
    { class: classes },
    el(
      "details",
      { open: true },
      el("summary", {}, label),
      ...suggestions,
      el("ul", {}, node.children.map((child) => treeNode(child, facet, render))),
    ),
  );
}

/** A facet tree with the record's suggestions on its nodes; `render` makes a suggestion's element. */
export function renderTree(answer, facet, render) {
  const parts = [el("ul", { class: "tree-root" }, answer.roots.map((root) => treeNode(root, facet, render)))];
  if (answer.unplaced && answer.unplaced.length) {
    parts.push(
      el("p", { class: "help" }, t("record.not_in_tree")),
      ...answer.unplaced.map((s) => render({ ...s, label: s.value, kind: "concept", facet })),
    );
  }
  return el("div", {}, ...parts);
}

/** Draw the record's tree of one facet into `container`; the facet's number of suggestions (null on error). */
export async function loadRecordTree(container, record, lang, render) {
  const facet = container.dataset.facet;
  const query = new URLSearchParams({ record, top: "10", pruned: "true", lang });
  const answer = await api(`/vocab/facets/${encodeURIComponent(facet)}/tree?${query}`);
  if (!answer.ok) {
    container.replaceChildren(el("p", { class: "error" }, t("record.tree_failed", { detail: detailOf(answer) })));
    return null;
  }
  container.replaceChildren(renderTree(answer.data, facet, render));
  return answer.data.suggestions;
}

async function level(facet, lang, root) {
  const query = new URLSearchParams({ lang, depth: root ? "1" : "0" });
  if (root) query.set("root", root);
  const answer = await api(`/vocab/facets/${encodeURIComponent(facet)}/tree?${query}`);
  if (!answer.ok) return { error: detailOf(answer) };
  return { nodes: root ? answer.data.roots[0]?.children || [] : answer.data.roots };
}

function browseNode(node, facet, lang, choose) {
  const children = el("ul", { hidden: true });
  let toggle = el("span", { class: "twisty", "aria-hidden": "true" });
  if (node.child_count) {
    toggle = el(
      "button",
      { type: "button", class: "twisty", "aria-expanded": "false", "aria-label": t("tree.expand", { label: node.label }) },
      "▸",
    );
    toggle.addEventListener("click", async () => {
      const open = toggle.getAttribute("aria-expanded") === "true";
      if (!open && !children.childElementCount) {
        const found = await level(facet, lang, node.iri);
        children.append(
          ...(found.error
            ? [el("li", { class: "error" }, found.error)]
            : found.nodes.map((child) => browseNode(child, facet, lang, choose))),
        );
      }
      toggle.setAttribute("aria-expanded", String(!open));
      toggle.textContent = open ? "▸" : "▾";
      children.hidden = open;
    });
  }
  const pick = node.guide
    ? null
    : el(
        "button",
        {
          type: "button",
          class: "choose",
          "aria-label": t("dialog.correct.choose", { label: node.label }),
          onclick: () => choose(node.iri, node.label),
        },
        t("dialog.correct.choose_short"),
      );
  return el(
    "li",
    {},
    toggle,
    " ",
    el("span", { class: node.guide ? "concept guide" : "concept", title: node.iri }, node.label),
    " ",
    pick,
    children,
  );
}

/** The facet's top level in `container`, each branch loading its children when opened. */
export async function browseTree(container, facet, lang, choose) {
  container.replaceChildren(el("p", { class: "help" }, t("common.loading")));
  const found = await level(facet, lang, null);
  container.replaceChildren(
    found.error
      ? el("p", { class: "error" }, found.error)
      : el("ul", { class: "browse" }, found.nodes.map((node) => browseNode(node, facet, lang, choose))),
  );
}

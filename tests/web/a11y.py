"""A small accessibility audit run in the page (axe-style rules of our own; nothing downloaded): every
control has an accessible name, images have alt text, one main landmark and a banner, labelled
navigation, headings without skipped levels, unique ids, label targets that exist, a page language and
title, no positive tabindex, dialogs with a name."""

from __future__ import annotations

from playwright.sync_api import Page

AUDIT = r"""
() => {
  const problems = [];
  const text = (node) => (node?.textContent || "").replace(/\s+/g, " ").trim();
  const describe = (node) => node.outerHTML.slice(0, 140);
  // Name from content: the text, with an image's alt text where the image is.
  const piece = (child) => {
    if (child.nodeType === Node.TEXT_NODE) return child.textContent;
    if (child.nodeType !== Node.ELEMENT_NODE) return "";
    return child.tagName === "IMG" ? child.alt : content(child);
  };
  const content = (node) =>
    [...node.childNodes]
      .map(piece)
      .join(" ")
      .replace(/\s+/g, " ")
      .trim();
  function accessibleName(node) {
    const labelledBy = node.getAttribute("aria-labelledby");
    if (labelledBy) return labelledBy.split(/\s+/).map((id) => text(document.getElementById(id))).join(" ").trim();
    const label = (node.getAttribute("aria-label") || "").trim();
    if (label) return label;
    if (node.labels && node.labels.length) return [...node.labels].map(text).join(" ").trim();
    if (node.tagName === "IMG") return (node.getAttribute("alt") || "").trim();
    if (node.tagName === "INPUT" && ["submit", "button", "reset"].includes(node.type)) return node.value;
    return content(node) || (node.getAttribute("title") || "").trim();
  }
  const controls = "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], " +
    "[role=group], [tabindex]:not([tabindex='-1']), dialog, form[aria-label], nav";
  for (const node of document.querySelectorAll(controls)) {
    if (!accessibleName(node)) problems.push(`no accessible name: ${describe(node)}`);
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`image without alt: ${describe(img)}`);
  }
  for (const node of document.querySelectorAll("[tabindex]")) {
    if (Number(node.getAttribute("tabindex")) > 0) problems.push(`positive tabindex: ${describe(node)}`);
  }
  const ids = new Map();
  for (const node of document.querySelectorAll("[id]")) ids.set(node.id, (ids.get(node.id) || 0) + 1);
  for (const [id, count] of ids) if (count > 1) problems.push(`id used ${count} times: ${id}`);
  for (const label of document.querySelectorAll("label[for]")) {
    if (!document.getElementById(label.htmlFor)) problems.push(`label for a missing control: ${label.htmlFor}`);
  }
  for (const node of document.querySelectorAll("[aria-describedby], [aria-labelledby]")) {
    for (const attribute of ["aria-describedby", "aria-labelledby"]) {
      for (const id of (node.getAttribute(attribute) || "").split(/\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) problems.push(`${attribute} names a missing id ${id}`);
      }
    }
  }
  if (!document.documentElement.lang) problems.push("the page has no language");
  if (!document.title.trim()) problems.push("the page has no title");
  if (document.querySelectorAll("main").length !== 1) problems.push("not exactly one main landmark");
  if (!document.querySelector("body > header")) problems.push("no banner (header)");
  if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one h1");
  let previous = 0;
  for (const heading of document.querySelectorAll("main h1, main h2, main h3, main h4, main h5, main h6")) {
    if (heading.closest("dialog")) continue;
    const level = Number(heading.tagName[1]);
    if (level > previous + 1) problems.push(`heading level skipped: ${describe(heading)}`);
    previous = level;
  }
  return problems;
}
"""


def audit(page: Page) -> list[str]:
    """The rules above that the page breaks (empty when it passes)."""
    problems: list[str] = page.evaluate(AUDIT)
    return problems


def tab_through(page: Page, presses: int) -> list[dict[str, object]]:
    """Press Tab ``presses`` times from the top of the page; what had focus after each press (tag, name,
    whether it follows the previous one in document order, whether a focus ring shows)."""
    page.evaluate(
        """() => {
      // Noted as focus arrives: where it is in the document, and whether a focus ring shows then.
      window.__focusTrail = [];
      document.addEventListener("focusin", (event) => {
        const node = event.target;
        const trail = window.__focusTrail;
        const previous = trail.length ? trail[trail.length - 1].node : null;
        trail.push({
          node,
          tag: node.tagName.toLowerCase(),
          name: (node.getAttribute("aria-label") || node.textContent || node.value || "").replace(/\\s+/g, " ").trim(),
          forward: !previous || (previous.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_FOLLOWING) > 0,
          ring: getComputedStyle(node).outlineStyle !== "none",
        });
      });
      document.activeElement?.blur();
      window.scrollTo(0, 0);
    }"""
    )
    for _ in range(presses):
        page.keyboard.press("Tab")
    trail: list[dict[str, object]] = page.evaluate("() => window.__focusTrail.map(({ node, ...facts }) => facts)")
    return trail

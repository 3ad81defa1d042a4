// The review queue: records with pending suggestions from GET /review/queue, with the page's filters,
// keyset paging (the answer's `next`), and a count. The filter form itself is plain HTML (GET).
import { api, el, notify, pageData, percent, problemText, t } from "./app.js";

const PAGE_SIZE = 25;
const table = document.getElementById("queue-table");
const count = document.getElementById("queue-count");
const previous = document.getElementById("prev-page");
const following = document.getElementById("next-page");
const pageNumber = document.getElementById("page-number");

// Pages already seen, as the URLs that fetched them: "previous" goes back along this list.
const visited = [];
let nextUrl = null;

function firstUrl() {
  const query = new URLSearchParams(pageData.filters || {});
  query.set("limit", String(PAGE_SIZE));
  query.set("lang", pageData.labels);
  return `/review/queue?${query}`;
}

/** The answer's `next` as a path on this site (it may come as an absolute URL). */
function sameSite(next) {
  if (!next) return null;
  const url = new URL(next, window.location.origin);
  return url.origin === window.location.origin ? `${url.pathname}${url.search}` : null;
}

function facetText(facet) {
  return (pageData.facetLabels || {})[facet] || facet;
}

function row(item) {
  const facets = (item.facets || []).map(facetText).join(", ");
  const link = el("a", { href: `/ui/records/${encodeURIComponent(item.record)}` }, item.title || item.record);
  return el(
    "tr",
    {},
    el("th", { scope: "row" }, link, el("div", { class: "record-id" }, item.record)),
    el("td", {}, item.provider || "–"),
    el("td", {}, item.dataset || "–"),
    el("td", { class: "number" }, String(item.pending)),
    el(
      "td",
      {},
      el("span", { class: "bar", "aria-hidden": "true", style: { "--confidence": item.max_confidence ?? 0 } }),
      ` ${percent(item.max_confidence)}`,
    ),
    el("td", {}, facets),
  );
}

async function show(url) {
  count.textContent = t("common.loading");
  const answer = await api(url);
  if (!answer.ok) {
    count.textContent = "";
    notify(problemText(answer), "error");
    return false;
  }
  const { items = [], total = 0, next = null } = answer.data;
  const body = table.tBodies[0];
  body.replaceChildren(...items.map(row));
  if (!items.length) {
    body.append(el("tr", {}, el("td", { colspan: "6", class: "empty" }, t("queue.empty"))));
  }
  count.textContent = t("queue.total", { total });
  nextUrl = sameSite(next);
  following.disabled = !nextUrl;
  return true;
}

async function go(url, forward) {
  if (await show(url)) {
    if (forward) visited.push(url);
    previous.disabled = visited.length < 2;
    pageNumber.textContent = t("queue.page", { page: visited.length });
  }
}

following.addEventListener("click", () => nextUrl && go(nextUrl, true));
previous.addEventListener("click", () => {
  if (visited.length < 2) return;
  visited.pop();
  go(visited[visited.length - 1], false);
});

go(firstUrl(), true);

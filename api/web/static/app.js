// What every page's script shares: the page's UI strings and data, an API client for the REST routes
// (session cookie plus the header that marks a request as the page's own, against cross-site forgery),
// the notice area, and building elements from text (never from HTML strings).

const readJson = (id) => JSON.parse(document.getElementById(id)?.textContent || "{}");

export const messages = readJson("ui-messages");
export const pageData = readJson("page-data");

/** A UI string with its {placeholders} filled. */
export function t(key, values = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** An element: attributes (on* are listeners, `dataset`/`style` objects), then children (text or nodes). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "style") for (const [prop, v] of Object.entries(value)) node.style.setProperty(prop, v);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** The text of an API error answer: FastAPI's `detail` (a string, or a list of field problems). */
export function detailOf(answer) {
  const detail = answer?.data?.detail;
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  return detail ? String(detail) : `HTTP ${answer.status}`;
}

/**
 * Call the API as the signed-in reviewer. Resolves to {ok, status, data}; never throws for an HTTP error
 * (status 0 when the server cannot be reached).
 */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json", "X-Requested-With": "heritage-enrich-ui" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    return { ok: false, status: 0, data: { detail: t("error.network") } };
  }
  let data = null;
  if ((response.headers.get("content-type") || "").includes("json")) data = await response.json();
  return { ok: response.ok, status: response.status, data };
}

/** Show a message in the page's notice area (read out politely; errors assertively). */
export function notify(text, kind = "info") {
  const area = document.getElementById("notice");
  if (!area) return;
  area.dataset.kind = kind;
  area.setAttribute("aria-live", kind === "error" ? "assertive" : "polite");
  area.replaceChildren(el("p", {}, text));
}

/** What an answer that is not ok means for the reviewer, as a sentence. */
export function problemText(answer) {
  if (answer.status === 401) return t("error.signed_out");
  if (answer.status === 403) return t("error.forbidden", { detail: detailOf(answer) });
  return t("error.failed", { detail: detailOf(answer) });
}

export function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`;
}

// The dashboard: per facet and enricher the approval rate and the suggestions by status, and the calibration of
// the reviewers' decisions, from GET /review/stats. Both plots are inline SVG drawn here (no library); a table
// beside each holds the same numbers for screen readers and for reading them exactly.
import { api, el, messages, notify, pageData, percent, problemText, t } from "./app.js";

const SVG = "http://www.w3.org/2000/svg";
const STATUSES = ["Pending", "Approved", "AutoAccepted", "Rejected", "Superseded", "Retracted"];
// Okabe–Ito colours, told apart with the common colour-vision deficiencies.
const COLOURS = {
  Pending: "#b9bec4",
  Approved: "#009e73",
  AutoAccepted: "#56b4e9",
  Rejected: "#d55e00",
  Superseded: "#e69f00",
  Retracted: "#cc79a7",
};
const ACCENT = "#0072b2";
const INK = "#1d232a";
const GRID = "#d5dae0";

// The approval plot's columns (viewBox units): labels, rate bars, rate text, stacked counts.
const RATES = {
  width: 1000,
  labelEnd: 330,
  barStart: 342,
  barWidth: 300,
  textStart: 652,
  countStart: 752,
  countWidth: 200,
};
// Longer group names are cut (the whole name is the element's title, and in the table).
const NAME_LENGTH = 46;
const ROW = 30;
const TOP = 44;
// The calibration plot: a square of SIDE units at (LEFT, PLOT_TOP).
const LEFT = 70;
const PLOT_TOP = 16;
const SIDE = 320;

const facetSelect = document.getElementById("d-facet");
const enricherSelect = document.getElementById("d-enricher");
const status = document.getElementById("dashboard-status");
const ratesPlot = document.getElementById("rates-plot");
const ratesTable = document.getElementById("rates-table");
const calibrationPlot = document.getElementById("calibration-plot");
const calibrationTable = document.getElementById("calibration-table");
const ece = document.getElementById("ece");

/** A UI string; the English given here while the catalogue has none for the key. */
const say = (key, english) => (key in messages ? t(key) : english);
const noGroups = () => say("dashboard.no_groups", "No suggestions with these filters.");
const facetLabels = {};
const facetLabel = (id) => facetLabels[id] || id;
const statusLabel = (name) => t(`status.${name}`);

/** An SVG element: attributes, then children (text or nodes). */
function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Drawn at its own size, but never wider than the page (a CSSOM property: the CSP allows no style attribute). */
function size(plot, width, height) {
  plot.setAttribute("viewBox", `0 0 ${width} ${height}`);
  plot.setAttribute("width", width);
  plot.setAttribute("height", height);
  plot.style.maxWidth = "100%";
  plot.style.height = "auto";
}

const total = (group) => Object.values(group.counts).reduce((a, b) => a + b, 0);
const label = (x, y, words, extra = {}) => svg("text", { x, y, fill: INK, "font-size": 13, ...extra }, words);
const round = (value) => Math.round(value * 100) / 100;

// -- the approval plot ---------------------------------------------------------------------------------------
function drawRates(groups) {
  const height = TOP + Math.max(groups.length, 1) * ROW + 44;
  size(ratesPlot, RATES.width, height);
  const { labelEnd, barStart, barWidth, textStart, countStart, countWidth } = RATES;
  const bottom = TOP + Math.max(groups.length, 1) * ROW;
  const parts = [
    label(barStart, 14, t("dashboard.approval_rate"), { "font-weight": 600 }),
    label(countStart, 14, t("dashboard.counts"), { "font-weight": 600 }),
  ];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const x = round(barStart + tick * barWidth);
    parts.push(svg("line", { x1: x, x2: x, y1: TOP - 8, y2: bottom, stroke: GRID }));
    parts.push(label(x, TOP - 12, percent(tick), { "text-anchor": "middle", "font-size": 11 }));
  }
  if (!groups.length) parts.push(label(barStart, TOP + 20, noGroups()));
  const most = Math.max(1, ...groups.map(total));
  groups.forEach((group, index) => {
    const y = TOP + index * ROW;
    const approved = group.counts.Approved + group.counts.AutoAccepted;
    const rate = group.approval_rate;
    const name = `${facetLabel(group.facet)} · ${group.enricher}`;
    const shown = name.length > NAME_LENGTH ? `${name.slice(0, NAME_LENGTH - 1)}…` : name;
    parts.push(label(labelEnd, y + 19, [shown, svg("title", {}, name)], { "text-anchor": "end" }));
    parts.push(svg("rect", { x: barStart, y: y + 6, width: barWidth, height: 18, fill: "#eef1f4" }));
    parts.push(
      svg(
        "rect",
        {
          class: "rate-bar",
          x: barStart,
          y: y + 6,
          width: round((rate ?? 0) * barWidth),
          height: 18,
          fill: ACCENT,
          "data-facet": group.facet,
          "data-enricher": group.enricher,
          "data-rate": rate ?? "",
        },
        svg("title", {}, `${name}: ${percent(rate)}`),
      ),
    );
    const rateText = rate === null ? "–" : `${percent(rate)} (${approved}/${group.decided})`;
    parts.push(label(textStart, y + 19, rateText));
    let x = countStart;
    for (const name of STATUSES) {
      const count = group.counts[name] || 0;
      if (!count) continue;
      const width = round((count / most) * countWidth);
      parts.push(
        svg(
          "rect",
          {
            class: "count-segment",
            x: round(x),
            y: y + 6,
            width,
            height: 18,
            fill: COLOURS[name],
            "data-facet": group.facet,
            "data-enricher": group.enricher,
            "data-status": name,
            "data-count": count,
          },
          svg("title", {}, `${statusLabel(name)}: ${count}`),
        ),
      );
      x += width;
    }
    parts.push(label(round(x + 6), y + 19, total(group), { "font-size": 12 }));
  });
  // The legend of the counts' colours.
  STATUSES.forEach((name, index) => {
    const x = labelEnd - 180 + index * 125;
    parts.push(svg("rect", { x, y: bottom + 18, width: 14, height: 14, fill: COLOURS[name] }));
    parts.push(label(x + 20, bottom + 30, statusLabel(name), { "font-size": 12 }));
  });
  ratesPlot.replaceChildren(svg("title", {}, t("dashboard.by_facet")), ...parts);
}

function rateRows(groups) {
  const body = ratesTable.tBodies[0];
  body.replaceChildren(
    ...groups.map((group) =>
      el(
        "tr",
        { dataset: { facet: group.facet, enricher: group.enricher } },
        el("th", { scope: "row" }, facetLabel(group.facet)),
        el("td", {}, group.enricher),
        ...STATUSES.map((name) => el("td", { class: "number" }, String(group.counts[name] || 0))),
        el("td", { class: "number" }, String(group.decided)),
        el("td", { class: "number" }, percent(group.approval_rate)),
      ),
    ),
  );
  if (!groups.length) {
    body.append(el("tr", {}, el("td", { colspan: "10" }, noGroups())));
  }
}

// -- the calibration plot ------------------------------------------------------------------------------------
const px = (value) => round(LEFT + value * SIDE);
const py = (value) => round(PLOT_TOP + SIDE - value * SIDE);

function drawCalibration(calibration) {
  size(calibrationPlot, 460, 400);
  const parts = [svg("rect", { x: LEFT, y: PLOT_TOP, width: SIDE, height: SIDE, fill: "#ffffff", stroke: GRID })];
  for (const tick of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
    parts.push(svg("line", { x1: px(tick), x2: px(tick), y1: PLOT_TOP, y2: PLOT_TOP + SIDE, stroke: GRID }));
    parts.push(svg("line", { x1: LEFT, x2: LEFT + SIDE, y1: py(tick), y2: py(tick), stroke: GRID }));
    parts.push(label(px(tick), PLOT_TOP + SIDE + 16, tick.toFixed(1), { "text-anchor": "middle", "font-size": 11 }));
    parts.push(label(LEFT - 6, py(tick) + 4, tick.toFixed(1), { "text-anchor": "end", "font-size": 11 }));
  }
  parts.push(
    svg("line", {
      class: "diagonal",
      x1: px(0),
      y1: py(0),
      x2: px(1),
      y2: py(1),
      stroke: "#56606b",
      "stroke-dasharray": "6 4",
    }),
  );
  const along = `rotate(-45 ${px(0.62)} ${py(0.7)})`;
  const diagonal = say("dashboard.diagonal", "perfect calibration");
  parts.push(label(px(0.62), py(0.7), diagonal, { "font-size": 11, fill: "#56606b", transform: along }));
  parts.push(label(LEFT + SIDE / 2, PLOT_TOP + SIDE + 38, t("dashboard.predicted"), { "text-anchor": "middle" }));
  const middle = PLOT_TOP + SIDE / 2;
  const upright = `rotate(-90 18 ${middle})`;
  parts.push(label(18, middle, t("dashboard.observed"), { "text-anchor": "middle", transform: upright }));
  const filled = calibration.bins.map((bin, index) => ({ ...bin, index })).filter((bin) => bin.count > 0);
  const most = Math.max(1, ...filled.map((bin) => bin.count));
  if (filled.length > 1) {
    const points = filled.map((bin) => `${px(bin.mean_confidence)},${py(bin.approval_rate)}`).join(" ");
    parts.push(svg("polyline", { points, fill: "none", stroke: ACCENT, "stroke-width": 2 }));
  }
  for (const bin of filled) {
    parts.push(
      svg(
        "circle",
        {
          class: "calibration-point",
          cx: px(bin.mean_confidence),
          cy: py(bin.approval_rate),
          r: round(4 + 8 * Math.sqrt(bin.count / most)),
          fill: ACCENT,
          "fill-opacity": 0.85,
          stroke: "#ffffff",
          "stroke-width": 1.5,
          "data-bin": bin.index,
          "data-count": bin.count,
          "data-mean": bin.mean_confidence,
          "data-rate": bin.approval_rate,
        },
        svg("title", {}, pointText(bin)),
      ),
    );
  }
  calibrationPlot.replaceChildren(svg("title", {}, t("dashboard.calibration")), ...parts);
}

const band = (bin) => `${bin.lower.toFixed(1)}–${bin.upper.toFixed(1)}`;
const pointText = (bin) =>
  `${band(bin)}: ${bin.count}, ${percent(bin.mean_confidence)} → ${percent(bin.approval_rate)}`;

function calibrationRows(calibration) {
  calibrationTable.tBodies[0].replaceChildren(
    ...calibration.bins.map((bin) =>
      el(
        "tr",
        {},
        el("th", { scope: "row" }, band(bin)),
        el("td", { class: "number" }, String(bin.count)),
        el("td", { class: "number" }, percent(bin.mean_confidence)),
        el("td", { class: "number" }, percent(bin.approval_rate)),
      ),
    ),
  );
  const error = calibration.expected_calibration_error;
  if (error === null) {
    ece.replaceChildren(t("dashboard.no_decisions"));
    return;
  }
  const decisions = ` · ${t("dashboard.decisions")}: ${calibration.decisions}`;
  ece.replaceChildren(el("strong", {}, `${t("dashboard.ece")}: ${error.toFixed(3)}`), decisions);
}

// -- filters and loading -------------------------------------------------------------------------------------
function option(value, text, chosen) {
  return el("option", { value, selected: value === chosen }, text);
}

async function loadFacets(chosen) {
  const answer = await api(`/vocab/facets?lang=${encodeURIComponent(pageData.ui || "en")}`);
  if (!answer.ok) return;
  const facets = answer.data.facets || [];
  const named = (facet) => facet.label || facet.id;
  for (const facet of facets) {
    // Two facets with one label (e.g. two material facets in Korean) are told apart by their ids.
    const twin = facets.some((other) => other.id !== facet.id && named(other) === named(facet));
    facetLabels[facet.id] = twin ? `${named(facet)} (${facet.id})` : named(facet);
  }
  facetSelect.replaceChildren(
    facetSelect.options[0],
    ...Object.keys(facetLabels)
      .sort()
      .map((id) => option(id, facetLabels[id], chosen)),
  );
}

const enrichers = new Set();

function enricherOptions(groups, chosen) {
  for (const group of groups) enrichers.add(group.enricher);
  if (chosen) enrichers.add(chosen);
  enricherSelect.replaceChildren(
    enricherSelect.options[0],
    ...[...enrichers].sort().map((name) => option(name, name, chosen)),
  );
}

async function show() {
  const query = new URLSearchParams();
  if (facetSelect.value) query.set("facet", facetSelect.value);
  if (enricherSelect.value) query.set("enricher", enricherSelect.value);
  const search = query.toString();
  history.replaceState(null, "", `${location.pathname}${search ? `?${search}` : ""}`);
  status.textContent = t("common.loading");
  document.body.dataset.loaded = "";
  const answer = await api(`/review/stats?${query}`);
  if (!answer.ok) {
    status.textContent = "";
    notify(problemText(answer), "error");
    return;
  }
  document.getElementById("notice").replaceChildren();
  const { groups, calibration } = answer.data;
  enricherOptions(groups, enricherSelect.value);
  drawRates(groups);
  rateRows(groups);
  drawCalibration(calibration);
  calibrationRows(calibration);
  status.textContent = "";
  // Which question the page shows now (the tests wait for it).
  document.body.dataset.loaded = search || "all";
}

async function start() {
  for (const node of document.querySelectorAll("[data-m]")) {
    if (node.dataset.m in messages) node.textContent = messages[node.dataset.m];
  }
  const wanted = new URLSearchParams(location.search);
  await loadFacets(wanted.get("facet") || "");
  facetSelect.value = wanted.get("facet") || "";
  enricherOptions([], wanted.get("enricher") || "");
  enricherSelect.value = wanted.get("enricher") || "";
  facetSelect.addEventListener("change", show);
  enricherSelect.addEventListener("change", show);
  document.getElementById("dashboard-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  await show();
}

start();

// Tierline dashboard: plain JS over the /v1 API (docs/api.md). No build step.
"use strict";

const TIERS = ["STRATEGIC", "KEY", "RESERVE", "AT_RISK", "UNRATED"];
const DIMENSIONS = ["delivery", "quality", "service", "cost", "responsiveness", "capability", "compliance"];
const $ = (sel) => document.querySelector(sel);
const state = { suppliers: [], next: null, sortKey: "score", asc: false, timer: null };

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}
const fmt = (v, digits = 1) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));
const fmtNum = (v) => (v === null || v === undefined ? "–" : Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(4)).toString());
const tierBadge = (t) => el("span", { class: "tier " + t, text: t });

async function api(path, init) {
  const headers = Object.assign({}, (init && init.headers) || {});
  const key = localStorage.getItem("tierline.apiKey");
  if (key) headers["Authorization"] = "Bearer " + key;
  const res = await fetch(path, Object.assign({}, init || {}, { headers }));
  if (res.status === 401) {
    $("#key-form").hidden = false;
    throw new Error("This API needs a key: enter it at the top right.");
  }
  const body = await res.json();
  if (!res.ok) throw new Error(body.detail || body.title || res.statusText);
  return body;
}
function showError(e) { const box = $("#error"); box.hidden = !e; box.textContent = e ? String(e.message || e) : ""; }

function query(extra) {
  const p = new URLSearchParams(extra || {});
  p.set("window", $("#window").value);
  if ($("#as-of").value) p.set("as_of", $("#as-of").value);
  return p.toString();
}

// ---- overview ------------------------------------------------------------------
async function loadTiers() {
  const p = new URLSearchParams();
  if ($("#as-of").value) p.set("as_of", $("#as-of").value);
  const t = await api("/v1/tiers?" + p);
  $("#tiers-as-of").textContent = "as of " + t.as_of;
  const max = Math.max(1, ...TIERS.map((k) => t.counts[k] || 0));
  const box = $("#tier-counts");
  box.replaceChildren(...TIERS.map((k) => {
    const n = t.counts[k] || 0;
    const fill = el("span", { class: "fill" });
    fill.style.width = (260 * n / max) + "px";
    fill.style.background = `var(--${k})`;
    return el("div", { class: "bar", "data-tier": k }, el("span", { class: "label", text: k }), fill, el("span", { class: "n", text: String(n) }));
  }));
}

async function loadSuppliers(more) {
  const extra = { page_size: "500", sort: "-score" };
  if ($("#filter-tier").value) extra.tier = $("#filter-tier").value;
  if (more && state.next) extra.page_token = state.next;
  const page = await api("/v1/suppliers?" + query(extra));
  state.suppliers = more ? state.suppliers.concat(page.items) : page.items;
  state.next = page.next_page_token;
  $("#more").hidden = !state.next;
  renderSuppliers();
}

function sortValue(s, key) {
  if (DIMENSIONS.includes(key)) return s.dimensions[key];
  return s[key];
}

function renderSuppliers() {
  const text = $("#filter-text").value.trim().toLowerCase();
  const rows = state.suppliers.filter((s) => !text || s.supplier_id.toLowerCase().includes(text));
  const { sortKey, asc } = state;
  rows.sort((a, b) => {
    const x = sortValue(a, sortKey), y = sortValue(b, sortKey);
    if (x === y) return a.supplier_id < b.supplier_id ? -1 : 1;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * (asc ? 1 : -1);
  });
  document.querySelectorAll("#supplier-table th").forEach((th) => {
    th.classList.toggle("sorted", th.dataset.key === sortKey);
    th.classList.toggle("asc", th.dataset.key === sortKey && asc);
  });
  $("#supplier-count").textContent = `${rows.length} shown`;
  $("#supplier-table tbody").replaceChildren(...rows.map((s) => el("tr", { "data-supplier": s.supplier_id },
    el("td", {}, el("a", { href: "#/supplier/" + encodeURIComponent(s.supplier_id), text: s.supplier_id })),
    el("td", { class: "num score", text: fmt(s.score) }),
    el("td", {}, tierBadge(s.tier)),
    el("td", {}, statusBadge(s.status)),
    ...DIMENSIONS.map((d) => el("td", { class: "num", text: fmt(s.dimensions[d]) })),
    el("td", { class: "num", text: String(s.open_alerts) }),
    el("td", { class: "muted", text: s.last_event_at ? s.last_event_at.slice(0, 16).replace("T", " ") : "–" }),
  )));
}

function alertItem(a) {
  return el("li", { "data-alert": a.alert_id },
    el("span", { class: "level-" + a.level, text: a.level }), " ",
    el("a", { href: "#/supplier/" + encodeURIComponent(a.supplier_id), text: a.supplier_id }),
    ` ${a.rule} ${fmtNum(a.value)} vs ${fmtNum(a.threshold)} · ${a.status} since ${a.started_on}` +
      (a.ended_on ? ` until ${a.ended_on}` : ""));
}

async function loadAlertFeed() {
  const page = await api("/v1/alerts?page_size=25");
  $("#alert-feed").replaceChildren(...(page.items.length ? page.items.map(alertItem) : [el("li", { class: "muted", text: "no alerts" })]));
}

async function overview() {
  showView("overview-view");
  await Promise.all([loadTiers(), loadSuppliers(false), loadAlertFeed()]);
}

// ---- supplier page -----------------------------------------------------------------
let chart = null;
async function supplierPage(id) {
  showView("supplier-view");
  const enc = encodeURIComponent(id);
  const sc = await api(`/v1/suppliers/${enc}/scorecard?` + query());
  $("#supplier-name").textContent = id;
  $("#supplier-score").textContent = fmt(sc.score);
  $("#supplier-tier").replaceChildren(tierBadge(sc.tier));
  $("#supplier-status").replaceChildren(statusBadge(sc.status));
  $("#supplier-meta").textContent = `as of ${sc.as_of} · ${sc.window}-day window · coverage ${fmt(sc.coverage * 100, 0)}% · policy ${sc.policy_version}`;
  $("#dimension-table tbody").replaceChildren(...DIMENSIONS.map((d) => el("tr", {}, el("td", { text: d }), el("td", { class: "num", text: fmt(sc.dimensions[d]) }))));
  const to = sc.as_of;
  const from = new Date(Date.parse(to) - 364 * 86400000).toISOString().slice(0, 10);
  const [hist, episodes] = await Promise.all([
    api(`/v1/suppliers/${enc}/history?from=${from}&to=${to}&window=${sc.window}`),
    api(`/v1/alerts?supplier_id=${enc}&page_size=500`),
  ]);
  // Alerts open on the page's day (an episode is open from started_on up to the day
  // before ended_on), the most severe first.
  const open = episodes.items
    .filter((a) => a.started_on <= to && (!a.ended_on || a.ended_on > to))
    .sort((a, b) => (a.level === "CRITICAL" ? 0 : 1) - (b.level === "CRITICAL" ? 0 : 1));
  const alertOn = (name) => open.find((a) => a.rule === name);
  $("#indicator-table tbody").replaceChildren(...Object.entries(sc.indicators).map(([name, v]) => {
    const a = alertOn(name);
    return el("tr", { "data-indicator": name },
      el("td", { text: name }), el("td", { class: "num value", text: fmtNum(v.value) }), el("td", { class: "num", text: fmt(v.subscore) }),
      el("td", { class: "num", text: fmtNum(v.numerator) }), el("td", { class: "num", text: fmtNum(v.denominator) }),
      el("td", { class: "num", text: String(v.samples) }),
      el("td", { class: "muted", text: v.status === "insufficient" ? "too little data" : "enough data" }),
      a ? el("td", { class: "level-" + a.level, "data-alert": a.alert_id, text: `${a.level} since ${a.started_on}` })
        : el("td", { class: "muted", text: "none" }));
  }));
  $("#supplier-alerts").replaceChildren(...(open.length ? open.map(alertItem) : [el("li", { class: "muted", text: "no open alerts" })]));
  drawHistory(hist);
  state.eventsNext = null;
  await Promise.all([loadEvents(id, false), loadProfile(id, sc), loopSupplier(id, sc, open)]);
}

// ---- assessments, certificates, the assessment form (v2) ---------------------------
const daysBetween = (a, b) => Math.round((Date.parse(b) - Date.parse(a)) / 86400000);

async function loadProfile(id, sc) {
  const enc = encodeURIComponent(id);
  const me = await api("/v1/me");
  // A supplier's own key sees its scores, not the assessments behind them.
  const own = me.role === "supplier";
  $("#criteria-card").hidden = own; $("#certificates-card").hidden = own;
  if (own) { $("#assessment-card").hidden = true; return; }
  const [list, certs, policy] = await Promise.all([
    api(`/v1/suppliers/${enc}/assessments`), api(`/v1/suppliers/${enc}/certificates`), api("/v1/policy"),
  ]);
  const criteria = (policy.criteria || []).map((c) => c.name);
  // One bar per criterion of the policy: its value and the assessments it comes from.
  $("#criteria-bars").replaceChildren(...criteria.map((name) => {
    const v = sc.indicators[name] || {};
    const fill = el("span", { class: "fill" });
    fill.style.width = (v.value === null || v.value === undefined ? 0 : 260 * v.value) + "px";
    const from = (list.sources[name] || []).map((aid) => {
      const a = list.items.find((x) => x.assessment_id === aid);
      const c = a && a.criteria.find((x) => x.criterion === name);
      return a ? `${aid} (${a.kind}, ${a.assessed_on}${c && c.valid_through ? " – " + c.valid_through : ""})` : aid;
    });
    return el("div", { class: "bar", "data-criterion": name }, el("span", { class: "label", text: name }), fill,
      el("span", { class: "n", text: v.value === null || v.value === undefined ? "no valid assessment" : fmt(v.value * 100, 0) + "%" }),
      el("span", { class: "src", text: from.length ? "from " + from.join(", ") : "" }));
  }));
  // Re-assessments due: criteria whose value ends within 60 days or has ended.
  const today = list.as_of;
  const due = [];
  for (const name of criteria) {
    const ends = list.items.filter((a) => !a.void).flatMap((a) => a.criteria.filter((c) => c.criterion === name && c.valid_through).map((c) => c.valid_through));
    if (!ends.length) continue;
    const last = ends.sort().at(-1);
    const left = daysBetween(today, last);
    if (left <= 60) due.push({ name, last, left });
  }
  $("#reassessments").replaceChildren(...(due.length ? due.map((d) => el("li", { "data-due": d.name },
    el("span", { class: "badge " + (d.left < 0 ? "expired" : "soon"), text: d.left < 0 ? "ended" : `${d.left} days` }),
    ` ${d.name}: valid through ${d.last}`)) : [el("li", { class: "muted", text: "nothing due within 60 days" })]));
  $("#certificate-table tbody").replaceChildren(...(certs.items.length ? certs.items.map((c) => {
    const cls = !c.covers_today ? "expired" : c.days_to_expiry <= 60 ? "soon" : "ok";
    const label = c.days_to_expiry < 0 ? "expired" : !c.covers_today ? c.status.toLowerCase() : `${c.days_to_expiry} days left`;
    return el("tr", { "data-certificate": c.certificate_id }, el("td", { text: c.standard + (c.required ? " (required)" : "") }),
      el("td", { text: c.status }), el("td", { text: `${c.valid_from} – ${c.valid_until}` }),
      el("td", {}, el("span", { class: "badge " + cls, text: label })));
  }) : [el("tr", {}, el("td", { class: "muted", text: "no certificates recorded", colspan: "4" }))]));
  // The form is shown only to keys that may write.
  const mayWrite = me.role === "editor" || me.role === "admin";
  $("#assessment-card").hidden = !mayWrite;
  if (mayWrite) {
    $("#criteria-inputs").replaceChildren(...criteria.map((name) => el("label", {}, el("span", { text: name + " (0–5)" }),
      el("input", { name: "c_" + name, type: "number", min: "0", max: "5", step: "0.5" }))));
    $("#assessment-form").onsubmit = (ev) => { ev.preventDefault(); recordAssessment(id, criteria).catch(showError); };
  }
}

async function recordAssessment(id, criteria) {
  const f = $("#assessment-form");
  const body = { assessment_id: f.assessment_id.value, kind: f.kind.value, assessor: f.assessor.value,
    criteria: criteria.filter((n) => f["c_" + n].value !== "").map((n) => ({ criterion: n, score: Number(f["c_" + n].value), max_score: 5 })) };
  if (f.comment.value) body.comment = f.comment.value;
  if (f.date.value) body.occurred_at = f.date.value + "T12:00:00Z";
  const saved = await api(`/v1/suppliers/${encodeURIComponent(id)}/assessments`,
    { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  $("#assessment-result").textContent = `recorded as event ${saved.event_id} by ${saved.source}; the scores follow within a second`;
}
function drawHistory(hist) {
  const xs = hist.points.map((p) => Date.parse(p.date) / 1000);
  const ys = hist.points.map((p) => p.score);
  const box = $("#history-chart");
  if (chart) { chart.destroy(); chart = null; }
  box.replaceChildren();
  const width = Math.max(320, box.clientWidth || 700);
  chart = new uPlot({ width, height: 240, scales: { y: { range: [0, 100] } },
    series: [{}, { label: "score", stroke: "#3b6fd1", width: 2, spanGaps: false }],
    axes: [{}, { label: "score" }] }, [xs, ys], box);
  $("#tier-strip").replaceChildren(...hist.points.map((p) => {
    const s = el("span", { title: `${p.date}: ${p.tier}` }); s.style.background = `var(--${p.tier})`; return s;
  }));
}

async function loadEvents(id, more) {
  // Newest first: what happened last is what a buyer looks for.
  const p = new URLSearchParams({ page_size: "50", order: "desc" });
  if (more && state.eventsNext) p.set("page_token", state.eventsNext);
  const page = await api(`/v1/suppliers/${encodeURIComponent(id)}/events?` + p);
  state.eventsNext = page.next_page_token;
  $("#more-events").hidden = !state.eventsNext;
  $("#more-events").onclick = () => loadEvents(id, true).catch(showError);
  const rows = page.items.map((e) => el("tr", {},
    el("td", { text: e.occurred_at.replace("T", " ").slice(0, 19) }), el("td", { text: e.type }),
    el("td", { text: e.source }), el("td", { class: "muted event-id", text: e.event_id }),
    el("td", { class: "num", text: String(e.position) }), el("td", { class: "payload", text: JSON.stringify(e.payload) })));
  if (more) $("#event-table tbody").append(...rows); else $("#event-table tbody").replaceChildren(...rows);
}

// ---- people ----------------------------------------------------------------------
// Records hold people's ids; the directory gives their names ("[erased]" once erased).
// Supplier keys may not read it: ids are shown as they are.
let people = null;
function loadPeople() {
  if (!people) {
    people = api("/v1/people")
      .then((list) => new Map(list.items.map((p) => [p.person_id, p.name])))
      .catch(() => new Map());
  }
  return people;
}
let peopleNames = new Map();
function personName(id) {
  const name = peopleNames.get(id);
  return name ? `${name} (${id})` : id;
}

// ---- feeds -----------------------------------------------------------------------
// A dead feed looks like late suppliers: say so above every page. Supplier keys may not
// read source health (403): the banner stays hidden.
async function loadSourceBanner() {
  let list;
  try { list = await api("/v1/sources"); } catch (_) { $("#sources-banner").hidden = true; return; }
  const bad = list.items.filter((s) => s.status !== "ok");
  const box = $("#sources-banner");
  box.hidden = bad.length === 0;
  if (!bad.length) return;
  const stale = bad.some((s) => s.status === "stale");
  box.replaceChildren(
    el("strong", { text: stale ? "A data feed has stopped. " : "A data feed is unusually quiet. " }),
    el("span", { text: bad.map((s) => s.reason).join("; ") + ". " }),
    el("span", { text: "Deliveries and inspections it should have sent are missing: late or unrated suppliers may not be late." }));
  box.dataset.status = stale ? "stale" : "quiet";
}

// ---- wiring ----------------------------------------------------------------------
async function route() {
  showError(null);
  clearInterval(state.timer);
  loadSourceBanner();
  try {
    peopleNames = await loadPeople();
    const plan = location.hash.match(/^#\/supplier\/([^/]+)\/plan\/(.+)$/);
    const m = location.hash.match(/^#\/supplier\/(.+)$/);
    if (plan) await planPage(decodeURIComponent(plan[1]), decodeURIComponent(plan[2]));
    else if (m) await supplierPage(decodeURIComponent(m[1]));
    else if (location.hash === "#/plans") await plansBoard();
    else if (location.hash === "#/blacklist") await blacklistPage();
    else {
      await overview();
      // The live feed and the table refresh while the overview is open.
      state.timer = setInterval(() => Promise.all([loadAlertFeed(), loadTiers(), loadSourceBanner()]).catch(showError), 5000);
    }
    document.body.dataset.ready = "true";
  } catch (e) { showError(e); document.body.dataset.ready = "error"; }
}

window.addEventListener("hashchange", route);
$("#window").addEventListener("change", route);
$("#as-of").addEventListener("change", route);
$("#filter-text").addEventListener("input", renderSuppliers);
$("#filter-tier").addEventListener("change", () => loadSuppliers(false).catch(showError));
$("#more").addEventListener("click", () => loadSuppliers(true).catch(showError));
document.querySelectorAll("#supplier-table th").forEach((th) => th.addEventListener("click", () => {
  state.asc = state.sortKey === th.dataset.key ? !state.asc : th.dataset.key === "supplier_id";
  state.sortKey = th.dataset.key; renderSuppliers();
}));
$("#key-form").addEventListener("submit", (ev) => {
  ev.preventDefault(); localStorage.setItem("tierline.apiKey", $("#api-key").value); $("#key-form").hidden = true; route();
});
api("/v1/policy").then((p) => { $("#policy").textContent = "policy " + p.version; }).catch(() => {});
route();

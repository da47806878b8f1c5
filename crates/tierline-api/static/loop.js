// Tierline dashboard, the closed loop (docs/api.md "Plans", "Status", "Credit", "The
// gate"): status badges and decisions, plans (board, page, forms), the credit timeline
// and the blacklist. Loaded before app.js, whose helpers ($, el, api, fmt, fmtNum,
// alertItem, showError) it uses at call time.
"use strict";

const VIEWS = ["overview-view", "supplier-view", "plans-view", "plan-view", "blacklist-view"];
function showView(id) { for (const v of VIEWS) document.getElementById(v).hidden = v !== id; }

const statusBadge = (s) => el("span", { class: "status " + (s || "APPROVED"), text: s || "APPROVED" });
const stateBadge = (s) => el("span", { class: "state " + s, text: s });
const post = (path, body) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const planHref = (p) => `#/supplier/${encodeURIComponent(p.supplier_id)}/plan/${encodeURIComponent(p.plan_id)}`;
const addDays = (day, n) => new Date(Date.parse(day) + n * 86400000).toISOString().slice(0, 10);

// ---- the supplier page's closed-loop cards -----------------------------------------
async function loopSupplier(id, sc, openAlerts) {
  const enc = encodeURIComponent(id);
  const [me, status, plans, credit] = await Promise.all([
    api("/v1/me"), api(`/v1/suppliers/${enc}/status?as_of=${sc.as_of}`),
    api(`/v1/suppliers/${enc}/plans`), api(`/v1/suppliers/${enc}/credit?as_of=${sc.as_of}`),
  ]);
  const own = me.role === "supplier";
  const editor = me.role === "editor" || me.role === "admin";
  // Status: now, since when, why, and every decision.
  $("#status-now").replaceChildren(statusBadge(status.status),
    ` since ${status.since || "the beginning"}` + (status.reason ? ` · ${status.reason}` : ""));
  $("#status-decisions").replaceChildren(...(status.decisions.length ? status.decisions.slice().reverse().map((d) =>
    el("li", { "data-decision": d.event_id }, statusBadge(d.status),
      ` ${d.occurred_at.slice(0, 10)} by ${personName(d.decided_by)}: ${d.reason}` + (d.valid_until ? ` (until ${d.valid_until})` : "") +
      (d.in_force ? " · in force" : ""))) : [el("li", { class: "muted", text: "no decision: approved" })]));
  const admin = me.role === "admin";
  $("#status-form").hidden = !admin;
  if (admin) {
    $("#status-form").onsubmit = (ev) => {
      ev.preventDefault();
      const f = ev.target;
      const body = { status: f.status.value, reason: f.reason.value, decided_by: f.decided_by.value };
      if (f.valid_until.value) body.valid_until = f.valid_until.value;
      post(`/v1/suppliers/${enc}/status`, body)
        .then((saved) => { $("#status-result").textContent = `decided (event ${saved.event_id})`; return supplierPage(id); })
        .catch(showError);
    };
  }
  // Plans, newest due first, each linking to its page.
  const rows = plans.items.slice().sort((a, b) => (a.due_date < b.due_date ? 1 : -1));
  $("#plan-table tbody").replaceChildren(...(rows.length ? rows.map((p) => el("tr", { "data-plan": p.plan_id },
    el("td", {}, el("a", { href: planHref(p), text: p.derived ? "automatic (" + p.plan_id.slice(0, 8) + ")" : p.plan_id })),
    el("td", { text: p.indicator }), el("td", { class: "num", text: fmtNum(p.target) }), el("td", { text: p.due_date }),
    el("td", {}, stateBadge(p.state)), el("td", { text: personName(p.owner) }))) : [el("tr", {}, el("td", { class: "muted", colspan: "6", text: "no plans" }))]));
  // "Open a plan" from an open alert (editors), or from scratch.
  $("#plan-form").hidden = !editor;
  if (editor) {
    for (const li of document.querySelectorAll("#supplier-alerts li[data-alert]")) {
      const a = openAlerts.find((x) => x.alert_id === li.dataset.alert);
      // A status proposal is on no indicator: it asks for a decision, not a plan.
      if (!a || a.rule.startsWith("status_proposal:") || li.querySelector("button")) continue;
      const b = el("button", { class: "small", type: "button", text: "open a plan" });
      b.onclick = () => prefillPlan(a);
      li.append(" ", b);
    }
    $("#plan-form").onsubmit = (ev) => { ev.preventDefault(); openPlan(id).catch(showError); };
  }
  // Credit: the score, its class, a year's timeline and every delta with its cause.
  $("#credit-now").replaceChildren(el("span", { class: "credit " + credit.class, text: `${fmt(credit.score, 0)} · class ${credit.class}` }));
  drawCredit(credit);
  $("#credit-table tbody").replaceChildren(...(credit.deltas.length ? credit.deltas.slice().reverse().map((d) =>
    el("tr", { class: d.withdrawn ? "withdrawn" : "", "data-delta": d.ref },
      el("td", { text: d.date }), el("td", { class: "num", text: (d.delta > 0 ? "+" : "") + d.delta }),
      el("td", { text: d.cause + (d.withdrawn ? " (withdrawn)" : "") }), el("td", { text: d.detail }))) :
    [el("tr", {}, el("td", { class: "muted", colspan: "4", text: "no deltas: credit 100" }))]));
  $("#credit-card").hidden = false;
  $("#plans-card").hidden = false;
  $("#status-card").hidden = false;
  if (own) $("#plan-form").hidden = true;
}

function prefillPlan(a) {
  const f = $("#plan-form");
  f.indicator.value = a.rule;
  f.window_days.value = String(a.window_days);
  f.target.value = a.threshold;
  f.due_date.value = addDays(a.started_on, 60);
  f.trigger_alert_id.value = a.alert_id;
  $("#plan-form-alert").textContent = `from the ${a.level} ${a.rule} alert of ${a.started_on}`;
  f.scrollIntoView();
}

async function openPlan(id) {
  const f = $("#plan-form");
  const body = { indicator: f.indicator.value, window_days: Number(f.window_days.value), target: Number(f.target.value),
    due_date: f.due_date.value, owner: f.owner.value,
    measures: f.measures.value.split(";").map((m) => m.trim()).filter((m) => m) };
  if (f.trigger_alert_id.value) body.trigger_alert_id = f.trigger_alert_id.value;
  const saved = await post(`/v1/suppliers/${encodeURIComponent(id)}/plans`, body);
  $("#plan-result").textContent = `plan ${saved.payload.plan_id} opened`;
  await supplierPage(id);
}

// Credit on each day of the year to the record's date: 100 + the deltas of the 365
// days ending that day, clamped (the rule of docs/scoring.md).
let creditChart = null;
function drawCredit(credit) {
  const counted = credit.deltas.filter((d) => !d.withdrawn);
  const xs = [], ys = [];
  for (let k = 364; k >= 0; k--) {
    const day = addDays(credit.as_of, -k);
    const from = addDays(day, -364);
    const sum = counted.filter((d) => d.date >= from && d.date <= day).reduce((s, d) => s + d.delta, 100);
    xs.push(Date.parse(day) / 1000); ys.push(Math.min(100, Math.max(0, sum)));
  }
  const box = $("#credit-chart");
  if (creditChart) { creditChart.destroy(); creditChart = null; }
  box.replaceChildren();
  creditChart = new uPlot({ width: Math.max(320, box.clientWidth || 500), height: 160, scales: { y: { range: [0, 100] } },
    series: [{}, { label: "credit", stroke: "#1f7a4d", width: 2 }], axes: [{}, { label: "credit" }] }, [xs, ys], box);
}

// ---- the plans board ---------------------------------------------------------------
function planItem(p) {
  return el("li", { "data-plan": p.plan_id }, stateBadge(p.state), " ",
    el("a", { href: planHref(p), text: `${p.supplier_id} · ${p.indicator}` }),
    ` target ${fmtNum(p.target)}, due ${p.due_date}, ${personName(p.owner)}` +
      (p.progress.length ? `, ${p.progress[p.progress.length - 1].percent_complete}% done` : ""));
}

async function plansBoard() {
  showView("plans-view");
  const [open, due, all] = await Promise.all([api("/v1/plans?status=open"), api("/v1/plans?status=due"), api("/v1/plans")]);
  $("#plans-as-of").textContent = "as of " + all.as_of;
  const none = (t) => [el("li", { class: "muted", text: t })];
  $("#board-open").replaceChildren(...(open.items.length ? open.items.map(planItem) : none("no open plans")));
  $("#board-due").replaceChildren(...(due.items.length ? due.items.map(planItem) : none("nothing due within 14 days")));
  const outcomes = all.items.filter((p) => ["VERIFIED", "FAILED", "UNVERIFIABLE"].includes(p.state))
    .sort((a, b) => (a.review_date < b.review_date ? 1 : -1));
  $("#board-outcomes").replaceChildren(...(outcomes.length ? outcomes.map(planItem) : none("no plan reviewed yet")));
}

// ---- one plan ----------------------------------------------------------------------
let planChart = null;
async function planPage(id, planId) {
  showView("plan-view");
  const enc = encodeURIComponent(id);
  const path = `/v1/suppliers/${enc}/plans/${encodeURIComponent(planId)}`;
  const [p, me] = await Promise.all([api(path), api("/v1/me")]);
  $("#plan-back").href = "#/supplier/" + enc;
  $("#plan-back").textContent = "\u2190 " + id;
  $("#plan-title").replaceChildren(`${p.indicator} plan `, stateBadge(p.state));
  const facts = [
    ["plan", p.plan_id + (p.derived ? " (automatic, from a CRITICAL alert)" : "")], ["owner", personName(p.owner)],
    ["window", p.window_days + " days"], ["target", fmtNum(p.target)], ["baseline", fmtNum(p.baseline)],
    ["opened", p.opened_on], ["due", p.due_date], ["review", p.review_date || "none (closed)"],
    ["value at review", fmtNum(p.value_at_review)], ["closed", p.close_reason || "–"],
    ["measures", p.measures.join("; ") || "–"], ["trigger alert", p.trigger_alert_id || "–"],
  ];
  $("#plan-facts tbody").replaceChildren(...facts.map(([k, v]) => el("tr", { "data-fact": k }, el("td", { class: "muted", text: k }), el("td", { text: v }))));
  const xs = p.series.map((s) => Date.parse(s.date) / 1000);
  const box = $("#plan-chart");
  if (planChart) { planChart.destroy(); planChart = null; }
  box.replaceChildren();
  planChart = new uPlot({ width: Math.max(320, box.clientWidth || 600), height: 220,
    series: [{}, { label: p.indicator, stroke: "#3b6fd1", width: 2 }, { label: "target", stroke: "#c2372f", dash: [6, 4] }],
    axes: [{}, {}] }, [xs, p.series.map((s) => s.value), p.series.map(() => p.target)], box);
  $("#plan-progress").replaceChildren(...(p.progress.length ? p.progress.map((r) => el("li", {},
    `${r.occurred_at.slice(0, 10)} · ${r.percent_complete}% · ${r.note} `, el("span", { class: "muted", text: r.source }))) :
    [el("li", { class: "muted", text: "no progress reported" })]));
  const open = p.state === "OPEN";
  const mayReport = open && (me.role === "editor" || me.role === "admin" || me.role === "supplier");
  const mayClose = open && (me.role === "editor" || me.role === "admin");
  $("#progress-form").hidden = !mayReport;
  $("#close-form").hidden = !mayClose;
  const act = (sub, body) => post(`${path}/${sub}`, body)
    .then(() => { $("#plan-action-result").textContent = "saved"; return planPage(id, planId); }).catch(showError);
  $("#progress-form").onsubmit = (ev) => {
    ev.preventDefault();
    act("progress", { percent_complete: Number(ev.target.percent_complete.value), note: ev.target.note.value });
  };
  $("#close-form").onsubmit = (ev) => {
    ev.preventDefault();
    const body = { reason: ev.target.reason.value };
    if (ev.target.note.value) body.note = ev.target.note.value;
    act("close", body);
  };
}

// ---- the blacklist ---------------------------------------------------------------
async function blacklistPage() {
  showView("blacklist-view");
  const lists = await Promise.all(["BLACKLISTED", "SUSPENDED"].map((s) => api(`/v1/suppliers?status=${s}&page_size=500`)));
  const suppliers = lists.flatMap((l) => l.items);
  const rows = await Promise.all(suppliers.map(async (s) => {
    const st = await api(`/v1/suppliers/${encodeURIComponent(s.supplier_id)}/status`);
    const history = st.decisions.map((d) => `${d.occurred_at.slice(0, 10)} ${d.status}: ${d.reason}`).join(" · ");
    return el("tr", { "data-supplier": s.supplier_id },
      el("td", {}, el("a", { href: "#/supplier/" + encodeURIComponent(s.supplier_id), text: s.supplier_id })),
      el("td", {}, statusBadge(st.status)), el("td", { text: st.since || "–" }), el("td", { text: st.reason }),
      el("td", { class: "history", text: history }));
  }));
  $("#blacklist-table tbody").replaceChildren(...(rows.length ? rows :
    [el("tr", {}, el("td", { class: "muted", colspan: "5", text: "no supplier is blacklisted or suspended" }))]));
}

// The dashboard: volume and success rate per protocol over days (uPlot), per-channel totals, notification
// delivery health and balances. Merchants see their own; operators all merchants or one.
import { api } from "../api.js";
import { t, lang } from "../i18n.js";
import { h, clear, yuan, percent, card, table, labelled, select, pageHead, loading } from "../ui.js";
import { can } from "../app.js";

const PROTOCOLS = ["consign", "gateway", "payout", "cashier"];
const COLORS = { consign: "#1664ff", gateway: "#00a870", payout: "#ff9a2e", cashier: "#8e59ff" };
const pad = (n) => String(n).padStart(2, "0");

function sum(a) {
  return (a || []).reduce((x, y) => x + Number(y || 0), 0);
}

// A uPlot chart that follows its container's width.
function chart(container, { series, data, yFormat, height = 240, yRange }) {
  const uPlot = window.uPlot;
  if (!uPlot) {
    container.append(h("div", { class: "empty" }, t("dashboard.no_chart")));
    return;
  }
  const width = Math.max(280, container.clientWidth || 600);
  const opts = {
    width,
    height,
    cursor: { points: { size: 7 } },
    scales: yRange ? { x: { time: true }, y: { range: yRange } } : { x: { time: true } },
    legend: { live: true },
    series: [
      { label: t("dashboard.day"), value: (u, v) => (v == null ? "—" : dayLabel(v)) },
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        fill: s.fill ? s.color + "1f" : undefined,
        width: 2,
        points: { size: 5, fill: "#fff", stroke: s.color },
        spanGaps: true,
        value: (u, v) => (v == null ? "—" : yFormat(v)),
      })),
    ],
    axes: [
      {
        stroke: "#86909c",
        grid: { stroke: "#f0f1f4", width: 1 },
        ticks: { stroke: "#e5e6eb", width: 1 },
        values: (u, vals) => vals.map((v) => dayLabel(v)),
        space: 48,
      },
      {
        stroke: "#86909c",
        grid: { stroke: "#f0f1f4", width: 1 },
        ticks: { show: false },
        values: (u, vals) => vals.map((v) => yFormat(v, true)),
        size: 64,
      },
    ],
  };
  const plot = new uPlot(opts, data, container);
  const observer = new ResizeObserver(() => {
    const w = container.clientWidth;
    if (w > 0 && Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height });
  });
  observer.observe(container);
}

function dayLabel(seconds) {
  const d = new Date(seconds * 1000);
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function compactYuan(fen, axis) {
  const y = Number(fen) / 100;
  if (!axis) return yuan(fen);
  if (lang() === "zh-CN" && Math.abs(y) >= 10000) return "¥" + (y / 10000).toFixed(1) + t("dashboard.ten_thousand");
  if (lang() !== "zh-CN" && Math.abs(y) >= 1000) return "¥" + (y / 1000).toFixed(1) + "k";
  return "¥" + (Number.isInteger(y) ? y : y.toFixed(1));
}

function kpi(label, value, sub, id) {
  return h("div", { class: "kpi", id }, h("div", { class: "kpi-label" }, label), h("div", { class: "kpi-value" }, value),
    sub ? h("div", { class: "kpi-sub" }, sub) : null);
}

export async function renderDashboard(ctx) {
  const { main, query } = ctx;
  const days = Number(query.get("days")) || 14;
  const merchantId = query.get("merchant_id") || "";
  const filters = h("form", { class: "filters inline", id: "dashboard-filters" },
    labelled(t("dashboard.range"), select("days", [[7, t("dashboard.days_n", { n: 7 })], [14, t("dashboard.days_n", { n: 14 })], [30, t("dashboard.days_n", { n: 30 })]], days)),
    can("operator") ? labelled(t("orders.merchant"), h("input", { name: "merchant_id", value: merchantId, placeholder: t("dashboard.all_merchants"), inputmode: "numeric", size: 10 })) : null,
    h("button", { class: "btn secondary", type: "submit" }, t("common.apply")));
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(filters);
    ctx.setQuery({ days: f.get("days"), merchant_id: f.get("merchant_id") });
  });
  filters.days.addEventListener("change", () => filters.requestSubmit());
  main.append(pageHead(t("nav.dashboard")), filters);
  const body = h("div", { class: "dashboard" }, loading());
  main.append(body);

  const d = await api.get("/dashboard", { days, merchant_id: merchantId });
  if (!ctx.alive()) return;
  clear(body);
  // Each day at its midday: its date reads the same in the browser's time zone as in the server's
  // (console.utc_offset_minutes), within twelve hours either way.
  const x = d.days.map((ms) => Math.floor((Number(ms) + 12 * 3600 * 1000) / 1000));
  const protocols = PROTOCOLS.filter((p) => d.protocols && d.protocols[p]);
  let orders = 0, succeeded = 0, volume = 0;
  for (const p of protocols) {
    orders += sum(d.protocols[p].orders);
    succeeded += sum(d.protocols[p].succeeded);
    volume += p === "payout" ? 0 : sum(d.protocols[p].volume_fen);
  }
  const n = d.notifications || {};
  const delivered = sum(n.delivered), failed = sum(n.failed);
  const b = d.balances || {};

  body.append(h("div", { class: "kpis" },
    kpi(t("dashboard.volume"), yuan(volume), t("dashboard.last_days", { n: days }), "kpi-volume"),
    kpi(t("dashboard.orders"), String(orders), t("dashboard.succeeded_n", { n: succeeded })),
    kpi(t("dashboard.success_rate"), percent(succeeded, orders), t("dashboard.of_orders")),
    kpi(t("dashboard.available"), yuan(b.available_fen), t("dashboard.pending_frozen", { p: yuan(b.pending_fen), f: yuan(b.frozen_fen) }))));

  const volumeBox = h("div", { class: "chart", id: "chart-volume" });
  const rateBox = h("div", { class: "chart", id: "chart-success" });
  const notifyBox = h("div", { class: "chart", id: "chart-notify" });
  body.append(h("div", { class: "grid-2" },
    card(t("dashboard.volume_by_protocol"), volumeBox),
    card(t("dashboard.success_by_protocol"), rateBox)));

  const channelRows = (d.channels || []).slice().sort((a, b2) => Number(b2.volume_fen) - Number(a.volume_fen));
  const maxVolume = Math.max(1, ...channelRows.map((c) => Number(c.volume_fen)));
  const channelTable = table([
    { label: t("orders.channel"), class: "nowrap", render: (r) => h("span", null, r.channel || "—", h("span", { class: "sub" }, " · " + t("protocol." + r.protocol))) },
    { label: t("dashboard.orders"), class: "num", render: (r) => String(r.orders) },
    { label: t("dashboard.success_rate"), class: "num", render: (r) => percent(r.succeeded, r.orders) },
    {
      label: t("dashboard.volume"), class: "bar-cell", render: (r) => {
        const bar = h("span", { class: "bar-fill" });
        bar.style.width = Math.max(2, (100 * Number(r.volume_fen)) / maxVolume) + "%";
        bar.style.background = COLORS[r.protocol] || "#1664ff";
        return h("div", { class: "bar" }, h("span", { class: "bar-track" }, bar), h("span", { class: "bar-value" }, yuan(r.volume_fen)));
      },
    },
  ], channelRows, { empty: t("dashboard.no_orders") });

  const health = h("div", { class: "health" },
    h("div", { class: "health-item" }, h("span", null, t("dashboard.delivered")), h("strong", { class: "tone-text-ok" }, String(delivered))),
    h("div", { class: "health-item" }, h("span", null, t("dashboard.failed")), h("strong", { class: "tone-text-bad" }, String(failed))),
    h("div", { class: "health-item" }, h("span", null, t("dashboard.attempts_failed")), h("strong", null, String(sum(n.attempts_failed)))),
    h("div", { class: "health-item" }, h("span", null, t("dashboard.pending_now")), h("strong", { id: "pending-now" }, String(n.pending_now ?? 0))));

  body.append(h("div", { class: "grid-2" },
    card(t("dashboard.by_channel"), channelTable),
    card(t("dashboard.notifications"), health, notifyBox)));

  body.append(card(t("dashboard.balances"), h("div", { class: "balances" },
    [["available", b.available_fen], ["pending", b.pending_fen], ["frozen", b.frozen_fen], ["payout_reserved", b.payout_reserved_fen]]
      .map(([k, v]) => h("div", { class: "balance balance-" + k }, h("span", null, t("account." + k)), h("strong", null, yuan(v)))))));

  // Charts last: their containers need a width.
  chart(volumeBox, {
    series: protocols.map((p) => ({ label: t("protocol." + p), color: COLORS[p], fill: true })),
    data: [x, ...protocols.map((p) => d.protocols[p].volume_fen.map(Number))],
    yFormat: compactYuan,
  });
  chart(rateBox, {
    series: protocols.map((p) => ({ label: t("protocol." + p), color: COLORS[p] })),
    data: [x, ...protocols.map((p) => d.protocols[p].orders.map((o, i) => (Number(o) ? (100 * Number(d.protocols[p].succeeded[i])) / Number(o) : null)))],
    yFormat: (v) => (v == null ? "—" : Number(v).toFixed(0) + "%"),
    yRange: [0, 100],
  });
  chart(notifyBox, {
    height: 180,
    series: [
      { label: t("dashboard.delivered"), color: "#00a870", fill: true },
      { label: t("dashboard.failed"), color: "#e34d59" },
      { label: t("dashboard.attempts_failed"), color: "#ff9a2e" },
    ],
    data: [x, (n.delivered || []).map(Number), (n.failed || []).map(Number), (n.attempts_failed || []).map(Number)],
    yFormat: (v) => String(Math.round(v)),
  });
  if (!orders) body.prepend(h("div", { class: "hint-box" }, t("dashboard.no_orders")));
}

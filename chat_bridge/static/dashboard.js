// The clinic dashboard: a period's figures from GET /dashboard, drawn as SVG bar charts.
// Charts are plain SVG built with createElementNS (no chart library): a few bar charts need no more.

import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const TYPE_COLOURS = ["#2f6fde", "#14a38b", "#b7791f", "#8e44ad", "#c0392b"];
const CANCELLED_COLOUR = "#c8ccd4";
const WRITERS = {
  operator_to_system_agent: "Operators → system agent", system_agent: "System agent replies",
  operator_to_customers: "Operators → customers", customer_assistant: "Customer assistant replies",
  customers: "Customers' messages", tool: "Tool calls",
};

export class Dashboard {
  constructor(dialog, { load, today }) {
    this.dialog = dialog;
    this.load = load;
    this.today = today;
    this.form = dialog.querySelector("form");
    this.body = dialog.querySelector(".dashboard-body");
    this.error = dialog.querySelector(".form-error");
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.refresh(); });
    dialog.querySelector(".dashboard-close").addEventListener("click", () => dialog.close());
  }

  async open() {
    if (!this.form.start.value) { // the week behind and the weeks ahead: a clinic's bookings are mostly to come
      this.form.start.value = shift(this.today(), -7);
      this.form.end.value = shift(this.today(), 22);
    }
    this.dialog.showModal();
    await this.refresh();
  }

  async refresh() {
    this.error.textContent = "";
    let data;
    try {
      data = await this.load(this.form.start.value, this.form.end.value);
    } catch (error) {
      this.error.textContent = error.message;
      return;
    }
    this.body.replaceChildren(totals(data), perDay(data), busiest(data), customers(data), activity(data));
  }
}

/** @param {Dashboard} data */
function totals(data) {
  /** @type {DashboardTotals} */ const total = data.totals;
  const tile = (name, value, note) => h("div", { class: "dash-tile", dataset: { figure: name } },
    h("dt", {}, note), h("dd", {}, String(value)));
  return h("dl", { class: "dash-tiles" },
    tile("bookings", total.bookings, "Bookings"),
    tile("cancelled", `${total.cancelled} (${Math.round(total.cancelled_share * 100)}%)`, "Cancelled"),
    tile("new", data.customers.new, "New customers"),
    tile("returning", data.customers.returning, "Returning customers"));
}

/** @param {Dashboard} data */
function perDay(data) {
  const types = Object.keys(data.types);
  const days = data.days;
  const height = 140, width = Math.max(days.length * 8, 320), bar = width / days.length;
  const top = Math.max(1, ...days.map((/** @type {DashboardDay} */ day) =>
    types.reduce((n, t) => n + day.by_type[t], 0) + day.cancelled));
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "dash-chart", role: "img",
    "aria-label": "Bookings per day by type, cancellations on top" });
  days.forEach((/** @type {DashboardDay} */ day, index) => {
    let y = height;
    const parts = [...types.map((t, n) => [data.types[t], day.by_type[t], TYPE_COLOURS[n % TYPE_COLOURS.length]]),
      ["Cancelled", day.cancelled, CANCELLED_COLOUR]];
    const group = svg("g", { "data-date": day.date,
      "data-bookings": types.reduce((n, t) => n + day.by_type[t], 0), "data-cancelled": day.cancelled });
    for (const [label, count, colour] of parts) {
      if (!count) continue;
      const tall = (count / top) * (height - 10);
      y -= tall;
      const rect = svg("rect", { x: index * bar + 1, y, width: Math.max(bar - 2, 1), height: tall, fill: colour });
      rect.append(svg("title", {}, `${day.date}: ${count} ${label}`));
      group.append(rect);
    }
    chart.append(group);
  });
  const legend = h("ul", { class: "dash-legend" },
    ...types.map((t, n) => h("li", {}, swatch(TYPE_COLOURS[n % TYPE_COLOURS.length]), data.types[t])),
    h("li", {}, swatch(CANCELLED_COLOUR), "Cancelled"));
  const scale = h("p", { class: "hint dash-scale" },
    `${days[0].date} to ${days[days.length - 1].date}; the fullest day has ${top} (cancellations included).`);
  return section("Bookings per day", chart, scale, legend);
}

/** @param {Dashboard} data */
function busiest(data) {
  const rows = data.busiest_slots.map((/** @type {BusiestSlot} */ slot) => [`${slot.weekday} ${slot.time_slot}`, slot.bookings]);
  return section("Busiest slots", bars(rows, "busiest"));
}

/** @param {Dashboard} data */
function customers(data) {
  const { new: fresh, returning, total } = data.customers;
  const share = total ? fresh / total : 0;
  const chart = svg("svg", { viewBox: "0 0 300 24", preserveAspectRatio: "none", class: "dash-split", role: "img",
    "aria-label": `${fresh} new and ${returning} returning customers` });
  chart.append(svg("rect", { x: 0, y: 0, width: 300 * share, height: 24, fill: TYPE_COLOURS[1] }),
    svg("rect", { x: 300 * share, y: 0, width: 300 * (1 - share), height: 24, fill: TYPE_COLOURS[0] }));
  return section("New versus returning", chart, h("ul", { class: "dash-legend" },
    h("li", {}, swatch(TYPE_COLOURS[1]), `New ${fresh}`), h("li", {}, swatch(TYPE_COLOURS[0]), `Returning ${returning}`)));
}

/** @param {Dashboard} data */
function activity(data) {
  const messages = Object.entries(data.activity.messages).map(([who, n]) => [WRITERS[who] || who, n]);
  const batches = Object.entries(data.activity.batches).flatMap(([actor, tools]) =>
    Object.entries(tools).map(([tool, n]) => [`${actor}: ${tool}`, n]));
  return section("Operator and agent activity", bars(messages, "messages"),
    batches.length ? h("h4", {}, "Batches applied") : null, batches.length ? bars(batches, "batches") : null);
}

function bars(rows, name) {
  const top = Math.max(1, ...rows.map(([, n]) => n));
  return h("ol", { class: "dash-bars", dataset: { chart: name } }, ...rows.map(([label, n]) =>
    h("li", { dataset: { label, count: n } },
      h("span", { class: "dash-bar-label", dir: "auto" }, label),
      h("span", { class: "dash-bar", style: `width: ${Math.round((n / top) * 100)}%` }),
      h("span", { class: "dash-bar-count" }, String(n)))));
}

function section(title, ...children) {
  return h("section", { class: "dash-section" }, h("h3", {}, title), ...children);
}

function swatch(colour) {
  return h("span", { class: "dash-swatch", style: `background: ${colour}` });
}

function svg(tag, attrs = {}, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function shift(iso, days) {
  const moment = new Date(`${iso}T00:00:00Z`);
  moment.setUTCDate(moment.getUTCDate() + days);
  return moment.toISOString().slice(0, 10);
}

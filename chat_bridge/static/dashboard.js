// The clinic dashboard: a period's figures from GET /dashboard, drawn as SVG bar charts.
// Charts are plain SVG built with createElementNS (no chart library): a few bar charts need no more.

import { authorLabel } from "./authors.js";
import { fill, h, leftToRight } from "./dom.js";
import { dateFormat, define, number, t } from "./i18n.js";

define({
  "dashboard.writer.operator_to_system_agent": { en: "Operators → system agent", ar: "موظفو الاستقبال ← المساعد الذكي" },
  "dashboard.writer.system_agent": { en: "System agent replies", ar: "ردود المساعد الذكي" },
  "dashboard.writer.operator_to_customers": { en: "Operators → customers", ar: "موظفو الاستقبال ← العملاء" },
  "dashboard.writer.customer_assistant": { en: "Customer assistant replies", ar: "ردود مساعد العملاء" },
  "dashboard.writer.customers": { en: "Customers' messages", ar: "رسائل العملاء" },
  "dashboard.writer.tool": { en: "Tool calls", ar: "استدعاءات الأدوات" },
  "dashboard.tile.bookings": { en: "Bookings", ar: "الحجوزات" },
  "dashboard.tile.cancelled": { en: "Cancelled", ar: "الملغاة" },
  "dashboard.tile.cancelledShare": { en: "{cancelled} ({percent}%)", ar: "{cancelled} ({percent}٪)" },
  "dashboard.tile.new": { en: "New customers", ar: "عملاء جدد" },
  "dashboard.tile.returning": { en: "Returning customers", ar: "عملاء عائدون" },
  "dashboard.perDay.title": { en: "Bookings per day", ar: "الحجوزات يوميًا" },
  "dashboard.perDay.chart": { en: "Bookings per day by type, cancellations on top",
    ar: "الحجوزات يوميًا حسب النوع، والملغاة في أعلى كل عمود" },
  "dashboard.perDay.cancelled": { en: "Cancelled", ar: "ملغاة" },
  "dashboard.perDay.bar": { en: "{date}: {count} {label}", ar: "{date}: {count} {label}" },
  "dashboard.perDay.scale": { en: "{start} to {end}; the fullest day has {top} (cancellations included).",
    ar: "من {start} إلى {end}؛ في أكثر الأيام امتلاءً {top} (مع الملغاة)." },
  "dashboard.busiest.title": { en: "Busiest slots", ar: "أكثر الأوقات ازدحامًا" },
  "dashboard.customers.title": { en: "New versus returning", ar: "الجدد مقابل العائدين" },
  "dashboard.customers.chart": { en: "{fresh} new and {returning} returning customers",
    ar: "{fresh} من العملاء الجدد و{returning} من العائدين" },
  "dashboard.customers.new": { en: "New {count}", ar: "جدد: {count}" },
  "dashboard.customers.returning": { en: "Returning {count}", ar: "عائدون: {count}" },
  "dashboard.activity.title": { en: "Operator and agent activity", ar: "نشاط موظفي الاستقبال والمساعد الذكي" },
  "dashboard.activity.batches": { en: "Batches applied", ar: "العمليات الجماعية المنفَّذة" },
  "dashboard.activity.people": { en: "Changes by person", ar: "التغييرات حسب الشخص" },
  "dashboard.activity.customers": { en: "Customers", ar: "العملاء" },
  "dashboard.tile.noShows": { en: "No-show rate", ar: "نسبة عدم الحضور" },
  "dashboard.tile.noShowRate": { en: "{percent}% ({missed} of {marked})", ar: "{percent}٪ ({missed} من {marked})" },
  "dashboard.tile.unmarked": { en: "—", ar: "—" },
  "dashboard.noShows.title": { en: "No-shows", ar: "عدم الحضور" },
  "dashboard.noShows.definition": { en: "No-shows of the bookings marked arrived or no-show; {late} late cancellation(s).",
    ar: "عدم الحضور من الحجوزات المسجَّلة بالحضور أو عدم الحضور؛ الإلغاءات المتأخرة: {late}." },
  "dashboard.noShows.byType": { en: "By type (%)", ar: "حسب النوع (٪)" },
  "dashboard.noShows.byDay": { en: "By day (%)", ar: "حسب اليوم (٪)" },
});

const SVG = "http://www.w3.org/2000/svg";
const TYPE_COLOURS = ["#2f6fde", "#14a38b", "#b7791f", "#8e44ad", "#c0392b"];
const CANCELLED_COLOUR = "#c8ccd4";
const WRITERS = new Set(["operator_to_system_agent", "system_agent", "operator_to_customers", "customer_assistant",
  "customers", "tool"]);
// The server names weekdays "Mon" to "Sun"; 2024-01-01 was a Monday, so each name's date gives its weekday here.
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const weekdayFormat = dateFormat({ weekday: "short" });

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
    this.body.replaceChildren(totals(data), perDay(data), noShows(data), busiest(data), customers(data), activity(data));
  }
}

/** @param {Dashboard} data */
function totals(data) {
  /** @type {DashboardTotals} */ const total = data.totals;
  const tile = (name, value) => h("div", { class: "dash-tile", dataset: { figure: name } },
    h("dt", {}, t(`dashboard.tile.${name}`)), h("dd", {}, typeof value === "number" ? number(value) : value));
  return h("dl", { class: "dash-tiles" },
    tile("bookings", total.bookings),
    tile("cancelled", t("dashboard.tile.cancelledShare",
      { cancelled: total.cancelled, percent: Math.round(total.cancelled_share * 100) })),
    tile("noShows", rateText(total.no_shows)),
    tile("new", data.customers.new),
    tile("returning", data.customers.returning));
}

/** @param {Dashboard} data */
function perDay(data) {
  const types = Object.keys(data.types);
  const days = data.days;
  const height = 140, width = Math.max(days.length * 8, 320), bar = width / days.length;
  const top = Math.max(1, ...days.map((/** @type {DashboardDay} */ day) =>
    types.reduce((n, type) => n + day.by_type[type], 0) + day.cancelled));
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "dash-chart", role: "img",
    "aria-label": t("dashboard.perDay.chart") });
  days.forEach((/** @type {DashboardDay} */ day, index) => {
    let y = height;
    const parts = [...types.map((type, n) => [data.types[type], day.by_type[type], TYPE_COLOURS[n % TYPE_COLOURS.length]]),
      [t("dashboard.perDay.cancelled"), day.cancelled, CANCELLED_COLOUR]];
    const group = svg("g", { "data-date": day.date,
      "data-bookings": types.reduce((n, type) => n + day.by_type[type], 0), "data-cancelled": day.cancelled });
    for (const [label, count, colour] of parts) {
      if (!count) continue;
      const tall = (count / top) * (height - 10);
      y -= tall;
      const rect = svg("rect", { x: index * bar + 1, y, width: Math.max(bar - 2, 1), height: tall, fill: colour });
      rect.append(svg("title", {}, t("dashboard.perDay.bar", { date: day.date, count, label })));
      group.append(rect);
    }
    chart.append(group);
  });
  const legend = h("ul", { class: "dash-legend" },
    ...types.map((type, n) => h("li", {}, swatch(TYPE_COLOURS[n % TYPE_COLOURS.length]), data.types[type])),
    h("li", {}, swatch(CANCELLED_COLOUR), t("dashboard.perDay.cancelled")));
  const scale = h("p", { class: "hint dash-scale" }, fill(t("dashboard.perDay.scale", { top }),
    { start: leftToRight(days[0].date), end: leftToRight(days[days.length - 1].date) }));
  return section(t("dashboard.perDay.title"), chart, scale, legend);
}

/** "12% (3 of 25)", or a dash when nothing was marked. */
function rateText(rate) {
  if (!rate || rate.rate === null) return t("dashboard.tile.unmarked");
  return t("dashboard.tile.noShowRate", { percent: Math.round(rate.rate * 100), missed: number(rate.no_shows),
    marked: number(rate.no_shows + rate.arrived) });
}

/** The no-show rate (no-shows / (arrived + no-shows), as the server computed it) by type and by day. @param {Dashboard} data */
function noShows(data) {
  /** @type {DashboardTotals} */ const total = data.totals;
  const percent = (rate) => Math.round(rate.rate * 100);
  const types = Object.entries(total.no_shows_by_type).filter(([, rate]) => rate.rate !== null)
    .map(([name, rate]) => [name, percent(rate)]);
  const days = data.days.filter((/** @type {DashboardDay} */ day) => day.no_shows.rate !== null)
    .map((/** @type {DashboardDay} */ day) => [day.date, percent(day.no_shows)]);
  return section(t("dashboard.noShows.title"),
    h("p", { class: "hint" }, t("dashboard.noShows.definition", { late: number(total.late_cancelled) })),
    types.length ? h("h4", {}, t("dashboard.noShows.byType")) : null, types.length ? bars(types, "no-shows-by-type") : null,
    days.length ? h("h4", {}, t("dashboard.noShows.byDay")) : null, days.length ? bars(days, "no-shows-by-day") : null);
}

/** @param {Dashboard} data */
function busiest(data) {
  const rows = data.busiest_slots.map((/** @type {BusiestSlot} */ slot) =>
    [`${weekdayName(slot.weekday)} ${slot.time_slot}`, slot.bookings]);
  return section(t("dashboard.busiest.title"), bars(rows, "busiest"));
}

/** "Sun" as the page's language writes it (the server's name when it is not one of the seven). */
function weekdayName(name) {
  const index = WEEKDAYS.indexOf(name);
  return index < 0 ? name : weekdayFormat.format(Date.UTC(2024, 0, 1 + index));
}

/** @param {Dashboard} data */
function customers(data) {
  const { new: fresh, returning, total } = data.customers;
  const share = total ? fresh / total : 0;
  const chart = svg("svg", { viewBox: "0 0 300 24", preserveAspectRatio: "none", class: "dash-split", role: "img",
    "aria-label": t("dashboard.customers.chart", { fresh, returning }) });
  chart.append(svg("rect", { x: 0, y: 0, width: 300 * share, height: 24, fill: TYPE_COLOURS[1] }),
    svg("rect", { x: 300 * share, y: 0, width: 300 * (1 - share), height: 24, fill: TYPE_COLOURS[0] }));
  return section(t("dashboard.customers.title"), chart, h("ul", { class: "dash-legend" },
    h("li", {}, swatch(TYPE_COLOURS[1]), t("dashboard.customers.new", { count: fresh })),
    h("li", {}, swatch(TYPE_COLOURS[0]), t("dashboard.customers.returning", { count: returning }))));
}

/** @param {Dashboard} data */
function activity(data) {
  const messages = Object.entries(data.activity.messages)
    .map(([who, n]) => [WRITERS.has(who) ? t(`dashboard.writer.${who}`) : who, n]);
  // Each author as a person reads them ("Amal", "Agent for Amal", "Customers"), from the changes they signed.
  const people = data.activity.people.map((person) => [person.by === "customer" && !person.author
    ? t("dashboard.activity.customers") : authorLabel(person), person]);
  const changed = people.map(([who, person]) =>
    [who, Object.values(person.batches).reduce((sum, n) => sum + n, 0) + person.changes]);
  const batches = people.flatMap(([who, person]) => Object.entries(person.batches).map(([tool, n]) => [`${who}: ${tool}`, n]));
  return section(t("dashboard.activity.title"), bars(messages, "messages"),
    changed.length ? h("h4", {}, t("dashboard.activity.people")) : null, changed.length ? bars(changed, "people") : null,
    batches.length ? h("h4", {}, t("dashboard.activity.batches")) : null, batches.length ? bars(batches, "batches") : null);
}

function bars(rows, name) {
  const top = Math.max(1, ...rows.map(([, n]) => n));
  return h("ol", { class: "dash-bars", dataset: { chart: name } }, ...rows.map(([label, n]) =>
    h("li", { dataset: { label, count: n } },
      h("span", { class: "dash-bar-label", dir: "auto" }, label),
      h("span", { class: "dash-bar", style: `width: ${Math.round((n / top) * 100)}%` }),
      h("span", { class: "dash-bar-count" }, number(n)))));
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

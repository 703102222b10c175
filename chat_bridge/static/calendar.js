// The calendar strip: the days a conversation touches, each slot with who is booked; refreshed live.
// It reads the `/calendar` snapshot only through the shapes the server declares (`chat_bridge/console.py`,
// CONSOLE_SHAPES): each variable annotated with one is held by a test against that shape's JSON schema.

import { h, icon, leftToRight } from "./dom.js";
import { dateFormat, define, hijriLabel, number, slotTime, t } from "./i18n.js";

define({
  "calendar.hijri": { en: "Hijri (Umm al-Qura)", ar: "هجري (أم القرى)" },
  "calendar.booked": {
    en: { one: "{count} booked", other: "{count} booked" },
    ar: { zero: "لا حجوزات", one: "حجز واحد", two: "حجزان", few: "{count} حجوزات", many: "{count} حجزًا",
      other: "{count} حجز" },
  },
  "calendar.slots": { en: "Slots on {day}", ar: "المواعيد يوم {day}" },
  "calendar.noSlots": { en: "No slots", ar: "لا مواعيد" },
  "calendar.capacity": { en: "AI agents book up to {agent}, operators up to {operator}",
    ar: "يحجز المساعد الذكي حتى {agent}، وموظف الاستقبال حتى {operator}" },
  "calendar.meter": { en: "{time}: {booked} of {capacity} booked", ar: "{time}: {booked} محجوز من {capacity}" },
  "calendar.type": { en: "type {id}", ar: "النوع {id}" },
  "calendar.more": { en: "+{count} more", ar: "و{count} غيرهم" },
  "calendar.status.open": { en: "Open", ar: "مفتوح" },
  "calendar.status.past": { en: "Past", ar: "مضى" },
  "calendar.status.closed": { en: "Closed", ar: "مغلق" },
  "calendar.status.vacation": { en: "Vacation", ar: "إجازة" },
});

const MERGE_GAP_DAYS = 7;
const MAX_FETCH_DAYS = 92;
const NAMES_SHOWN = 4;
const DAY_MS = 86_400_000;

const STATUSES = new Set(["open", "past", "closed", "vacation"]);

const headerFormat = dateFormat({ day: "numeric", month: "short", year: "numeric" });
const weekdayFormat = dateFormat({ weekday: "short" });
const weekdayLongFormat = dateFormat({ weekday: "long" });

export function addDays(iso, count) {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + count * DAY_MS).toISOString().slice(0, 10);
}

/** Sorted days cut into ranges the server can answer in one request each. */
export function fetchRanges(days) {
  const ranges = [];
  for (const day of [...days].sort()) {
    const last = ranges[ranges.length - 1];
    if (last && day <= addDays(last.end, MERGE_GAP_DAYS) && day < addDays(last.start, MAX_FETCH_DAYS)) last.end = day;
    else ranges.push({ start: day, end: day });
  }
  return ranges;
}

export class CalendarStrip {
  /** fetchRange(start, end): the `/calendar` snapshot; onError(message): a refresh failed. */
  constructor(root, { fetchRange, onError }) {
    this.root = root;
    this.fetchRange = fetchRange;
    this.onError = onError;
    this.days = [];
    this.highlight = null;
    this.booked = new Map();
    this.generation = 0;
  }

  /** Show these days (ISO dates, any order) and load them. */
  async show(days, highlight = this.highlight) {
    this.days = [...new Set(days)].sort();
    this.highlight = highlight;
    await this.refresh();
  }

  /** Reload the shown days; an answer overtaken by a newer refresh is dropped. */
  async refresh() {
    const generation = ++this.generation;
    this.root.setAttribute("aria-busy", "true");
    try {
      const snapshots = await Promise.all(fetchRanges(this.days).map((r) => this.fetchRange(r.start, r.end)));
      if (generation !== this.generation) return;
      this.render(snapshots);
    } catch (error) {
      if (generation === this.generation) this.onError(error.message);
    } finally {
      if (generation === this.generation) this.root.removeAttribute("aria-busy");
    }
  }

  render(snapshots) {
    const wanted = new Set(this.days);
    const types = Object.assign({}, ...snapshots.map((/** @type {CalendarSnapshot} */ s) => s.types || {}));
    const days = snapshots.flatMap((/** @type {CalendarSnapshot} */ s) => s.days)
      .filter((/** @type {SnapshotDay} */ day) => wanted.has(day.date));
    this.root.replaceChildren(...days.map((day) => this.day(day, types)));
  }

  /** @param {SnapshotDay} day */
  day(day, types) {
    const moment = new Date(`${day.date}T00:00:00Z`);
    const label = `${weekdayLongFormat.format(moment)} ${headerFormat.format(moment)}`;
    const slots = day.slots.filter((slot) => slot.in_hours || slot.booked);
    return h("article", { class: `day day-${day.status}`, dataset: { date: day.date, status: day.status }, "aria-label": label },
      h("header", { class: "day-head" },
        h("div", { class: "day-when" },
          h("span", { class: "day-weekday" }, weekdayFormat.format(moment)),
          h("span", { class: "day-date" }, headerFormat.format(moment)),
          h("span", { class: "day-hijri", title: t("calendar.hijri"), dataset: { hijri: day.hijri_date } },
            hijriLabel(day.hijri_date))),
        h("div", { class: "day-summary" },
          statusChip(day),
          h("span", { class: "day-total", dataset: { total: day.booked } }, t("calendar.booked", { count: day.booked })))),
      slots.length
        ? h("ul", { class: "slots", "aria-label": t("calendar.slots", { day: label }) }, slots.map((slot) => this.slot(day.date, slot, types)))
        : h("p", { class: "day-empty", dir: "auto" },
          day.status === "closed" ? t("calendar.status.closed") : day.vacation || t("calendar.noSlots")));
  }

  /** @param {SnapshotSlot} slot */
  slot(date, slot, types) {
    const key = `${date} ${slot.time_slot}`;
    const before = this.booked.get(key);
    this.booked.set(key, slot.booked);
    const capacity = slot.capacity.operator;
    const full = slot.full.agent;
    const mine = slot.reservations.some((/** @type {SlotBooking} */ booking) => booking.wa_id === this.highlight);
    return h("li", {
      class: `slot${full ? " slot-full" : ""}${mine ? " slot-mine" : ""}${before !== undefined && before !== slot.booked ? " slot-changed" : ""}`,
      dataset: { slot: slot.time_slot, booked: slot.booked },
    },
      h("div", { class: "slot-head" },
        h("span", { class: "slot-time" }, slotTime(slot.time_slot, slot.time_label)),
        h("span", { class: "slot-count", title: t("calendar.capacity", { agent: slot.capacity.agent, operator: capacity }) },
          `${number(slot.booked)} / ${number(capacity)}`)),
      h("div", { class: "meter", role: "meter", "aria-valuemin": "0", "aria-valuemax": String(capacity), "aria-valuenow": String(slot.booked),
        "aria-label": t("calendar.meter", { time: slotTime(slot.time_slot, slot.time_label), booked: slot.booked, capacity }) },
        h("span", { style: `width:${Math.min(100, (100 * slot.booked) / Math.max(1, capacity))}%` })),
      this.people(slot.reservations, types));
  }

  people(reservations, types) {
    if (!reservations.length) return null;
    const chip = (/** @type {SlotBooking} */ booking) => h("li", {
      class: `person${booking.wa_id === this.highlight ? " person-mine" : ""}`, dir: "auto", dataset: { reservationId: booking.id, waId: booking.wa_id },
      title: `${booking.customer_name || `+${booking.wa_id}`} · +${booking.wa_id} · ${types[String(booking.type)] || t("calendar.type", { id: booking.type })}`,
    }, booking.customer_name || leftToRight(`+${booking.wa_id}`));
    const shown = reservations.slice(0, NAMES_SHOWN).map(chip);
    const rest = reservations.slice(NAMES_SHOWN);
    return h("ul", { class: "people" }, shown,
      rest.length ? h("li", { class: "person-more" },
        h("details", {}, h("summary", {}, t("calendar.more", { count: rest.length })), h("ul", { class: "people" }, rest.map(chip)))) : null);
  }
}

/** @param {SnapshotDay} day */
function statusChip(day) {
  const text = STATUSES.has(day.status) ? t(`calendar.status.${day.status}`) : day.status;
  const kind = { open: "chip-ok", past: "chip-muted", closed: "chip-muted", vacation: "chip-warn" }[day.status] || "chip-muted";
  return h("span", { class: `chip ${kind}`, title: day.vacation || "" }, day.status === "vacation" ? icon("sun") : null, text);
}

// The front desk's calendar: a week of days by their slots, or a month of days by their load, from the `/calendar`
// snapshot. Every rule is the server's: a slot's booked / capacity and whether it is full come from the snapshot,
// and every act (book, move, cancel, change the type, close days) is a batch the server runs and may refuse.
// Its own grid, not an events calendar: a clinic's unit is a slot with a capacity, not an event with a duration.

import { h, icon } from "./dom.js";
import { addDays } from "./calendar.js";
import { dateFormat, define, hijriLabel, slotTime, t } from "./i18n.js";

define({
  "board.time": { en: "Time", ar: "الوقت" },
  "board.week_of": { en: "Week of {day}", ar: "أسبوع {day}" },
  "board.select": { en: "Select {day}", ar: "اختر {day}" },
  "board.cell": { en: "{day} {time}: {booked} of {capacity} booked", ar: "{day} {time}: {booked} من {capacity} محجوز" },
  "board.count": { en: "{booked} / {capacity}", ar: "{booked} / {capacity}" },
  "board.book_slot": { en: "Book this slot", ar: "احجز هذا الموعد" },
  "board.book": { en: "Book {date} {time}", ar: "احجز {date} {time}" },
  "board.closed_hours": { en: "Closed hours", ar: "ساعات مغلقة" },
  "board.open_week": { en: "{day}: open the week", ar: "{day}: افتح الأسبوع" },
  "board.of_capacity": { en: " / {capacity}", ar: " / {capacity}" },
  "board.mark_day": { en: "Unmarked → no-show ({count})", ar: "غير المسجَّلين ← لم يحضر ({count})" },
  "board.mark_day_title": { en: "Mark this day's {count} unmarked booking(s) as no-shows", ar: "سجّل حجوزات هذا اليوم غير المسجَّلة ({count}) كعدم حضور" },
  "attendance.booked": { en: "Booked", ar: "محجوز" },
  "attendance.confirmed": { en: "Confirmed", ar: "مؤكَّد" },
  "attendance.arrived": { en: "Arrived", ar: "حضر" },
  "attendance.no_show": { en: "No-show", ar: "لم يحضر" },
});

const DAY_MS = 86_400_000;
const NAMES_SHOWN = 6;
export const VIEWS = ["week", "month"];
/** How the board (and the views' titles) write a day, a weekday, a month, in the page's language. */
export const FORMATS = {
  day: dateFormat({ day: "numeric", month: "short", year: "numeric" }),
  weekday: dateFormat({ weekday: "short" }),
  month: dateFormat({ month: "long", year: "numeric" }),
  dayOfMonth: dateFormat({ day: "numeric" }),
};

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `iso` if it is a real day, else null. */
export function validDay(iso) {
  if (!ISO_DAY.test(String(iso || ""))) return null;
  const moment = Date.parse(`${iso}T00:00:00Z`);
  return Number.isNaN(moment) || new Date(moment).toISOString().slice(0, 10) !== iso ? null : iso;
}

function weekday(iso) {
  return new Date(Date.parse(`${iso}T00:00:00Z`)).getUTCDay();
}

/** The Sunday on or before `iso` (the clinic's week starts on Sunday). */
export function weekStart(iso) {
  return addDays(iso, -weekday(iso));
}

/** The days a view shows around `iso`: a week from its Sunday, or the whole weeks covering its month. */
export function viewDays(view, iso) {
  if (view === "week") return Array.from({ length: 7 }, (_, n) => addDays(weekStart(iso), n));
  const first = `${iso.slice(0, 7)}-01`;
  const next = new Date(Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)), 1)).toISOString().slice(0, 10);
  const start = weekStart(first);
  const weeks = Math.ceil((Date.parse(`${next}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / (7 * DAY_MS));
  return Array.from({ length: weeks * 7 }, (_, n) => addDays(start, n));
}

/** The anchor one step before (-1) or after (+1) `iso` in `view`. */
export function stepped(view, iso, step) {
  if (view === "week") return addDays(iso, 7 * step);
  const moment = new Date(Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1 + step, 1));
  return moment.toISOString().slice(0, 10);
}

/** How full a slot is, 0 to 4, for its colour. */
export function fullness(booked, capacity) {
  if (!booked) return 0;
  const share = booked / Math.max(1, capacity);
  return share >= 1 ? 4 : share >= 0.75 ? 3 : share >= 0.4 ? 2 : 1;
}

export class CalendarBoard {
  /**
   * root: the board's element; fetchRange(start, end): the `/calendar` snapshot; actions: {book(date, slot),
   * open(booking, date, slot), move(booking, date, slot), markDay(day)}, each optional: an act not given offers no
   * control; a board without actions only shows the calendar (no act, no days to select for closing).
   */
  constructor(root, { fetchRange, actions, onError }) {
    this.root = root;
    this.fetchRange = fetchRange;
    this.actions = actions || null;
    this.onError = onError;
    this.view = "week";
    this.date = null;
    this.selected = new Set();
    this.generation = 0;
    this.snapshot = null;
    this.dragging = null; // the booking being dragged from this board
  }

  /** Show `view` around `date` and load it. */
  async show(view, date) {
    const changed = view !== this.view || viewDays(view, date).join() !== (this.date && viewDays(this.view, this.date).join());
    this.view = view;
    this.date = date;
    if (changed) this.selected.clear();
    await this.refresh();
  }

  /** Whether the view shows `day`. */
  shows(day) {
    const days = viewDays(this.view, this.date);
    return days[0] <= day && day <= days[days.length - 1];
  }

  /** Reload what is shown; an answer overtaken by a newer refresh is dropped. */
  async refresh() {
    if (!this.date) return;
    const generation = ++this.generation;
    const days = viewDays(this.view, this.date);
    this.root.setAttribute("aria-busy", "true");
    try {
      const snapshot = await this.fetchRange(days[0], days[days.length - 1]);
      if (generation !== this.generation) return;
      this.snapshot = snapshot;
      this.render();
    } catch (error) {
      if (generation === this.generation) this.onError(error.message);
    } finally {
      if (generation === this.generation) this.root.removeAttribute("aria-busy");
    }
  }

  render() {
    const /** @type {CalendarSnapshot} */ snapshot = this.snapshot;
    this.root.dataset.view = this.view;
    this.root.replaceChildren(this.view === "week" ? this.week(snapshot) : this.month(snapshot));
  }

  // --- week -------------------------------------------------------------------------------------------

  /** @param {CalendarSnapshot} snapshot */
  week(snapshot) {
    const times = [];
    for (const /** @type {SnapshotDay} */ day of snapshot.days) {
      for (const /** @type {SnapshotSlot} */ slot of day.slots) {
        if ((slot.in_hours || slot.booked) && !times.some((t) => t.time_slot === slot.time_slot)) {
          times.push({ time_slot: slot.time_slot, time_label: slotTime(slot.time_slot, slot.time_label) });
        }
      }
    }
    times.sort((a, b) => a.time_slot.localeCompare(b.time_slot));
    const head = h("tr", {}, h("th", { scope: "col", class: "board-corner" }, t("board.time")),
      snapshot.days.map((day) => this.dayHead(day)));
    const rows = times.map(({ time_slot, time_label }) => h("tr", { dataset: { slot: time_slot } },
      h("th", { scope: "row", class: "board-time" }, time_label),
      snapshot.days.map((day) => this.cell(day, day.slots.find((s) => s.time_slot === time_slot), snapshot.types))));
    const closedRow = snapshot.days.some((day) => day.status === "closed" || day.status === "vacation")
      ? h("tr", { class: "board-closed-row" }, h("th", { scope: "row" }, ""),
        snapshot.days.map((day) => h("td", { class: `board-day-note day-${day.status}` }, dayNote(day))))
      : null;
    return h("table", { class: "board-week", "aria-label": t("board.week_of", { day: FORMATS.day.format(utc(snapshot.start_date)) }) },
      h("thead", {}, head), h("tbody", {}, closedRow, rows));
  }

  /** @param {SnapshotDay} day */
  dayHead(day) {
    return h("th", { scope: "col", class: `board-day day-${day.status}`, dataset: { date: day.date, status: day.status } },
      h("div", { class: "board-day-when" },
        h("span", { class: "board-weekday" }, FORMATS.weekday.format(utc(day.date))),
        h("span", { class: "board-date" }, FORMATS.day.format(utc(day.date))),
        h("span", { class: "board-hijri", title: t("calendar.hijri") }, hijriLabel(day.hijri_date))),
      h("div", { class: "board-day-foot" }, h("span", { class: "board-day-total", dataset: { total: day.booked } }, t("calendar.booked", { count: day.booked })), this.selectBox(day)),
      this.markDayButton(day));
  }

  /** "Mark the day's unmarked as no-show", when the server lists any (`day.unmarked`). @param {SnapshotDay} day */
  markDayButton(day) {
    const count = (day.unmarked || []).length;
    if (!count || !this.actions?.markDay) return null;
    return h("button", { type: "button", class: "button board-mark-day", dataset: { date: day.date },
      title: t("board.mark_day_title", { count }), onclick: () => this.actions.markDay(day) }, t("board.mark_day", { count }));
  }

  /** @param {SnapshotDay} day @param {SnapshotSlot | undefined} slot */
  cell(day, slot, types) {
    if (!slot) return h("td", { class: "board-cell board-none" });
    const capacity = slot.capacity.operator;
    const open = day.status === "open" && slot.in_hours;
    const td = h("td", {
      class: `board-cell fill-${fullness(slot.booked, capacity)}${open ? "" : " board-shut"}`,
      dataset: { date: day.date, slot: slot.time_slot, booked: slot.booked, capacity },
      "aria-label": t("board.cell", { day: FORMATS.day.format(utc(day.date)), time: slotTime(slot.time_slot, slot.time_label), booked: slot.booked, capacity }),
    },
      h("div", { class: "board-cell-head" },
        h("span", { class: "board-count", title: t("calendar.capacity", { agent: slot.capacity.agent, operator: capacity }) },
          t("board.count", { booked: slot.booked, capacity })),
        open && !slot.full.operator && this.actions?.book
          ? h("button", { class: "board-book", type: "button", title: t("board.book_slot"), "aria-label": t("board.book", { date: day.date, time: slotTime(slot.time_slot, slot.time_label) }),
            onclick: () => this.actions.book(day.date, slot) }, "+")
          : null),
      !slot.in_hours && day.status === "open"
        ? h("span", { class: "board-shut-note" }, slot.closure ? h("bdi", {}, slot.closure) : t("board.closed_hours")) : null,
      this.people(day, slot, types));
    if (open && this.actions?.move) this.dropTarget(td, day.date, slot);
    return td;
  }

  /** @param {SnapshotDay} day @param {SnapshotSlot} slot */
  people(day, slot, types) {
    if (!slot.reservations.length) return null;
    const chip = (/** @type {SlotBooking} */ booking) => {
      const name = booking.customer_name || `+${booking.wa_id}`;
      const attendance = booking.attendance || "booked";
      const movable = day.status !== "past" && attendance !== "no_show" && Boolean(this.actions?.move);
      const item = h("li", {}, h(this.actions?.open ? "button" : "span", {
        type: this.actions?.open ? "button" : null, class: `booking type-${booking.type} attendance-${attendance}`, dir: "auto",
        draggable: movable ? "true" : null,
        dataset: { reservationId: booking.id, waId: booking.wa_id, attendance },
        title: `${name} · +${booking.wa_id} · ${types[String(booking.type)] || t("calendar.type", { id: booking.type })} · ${t(`attendance.${attendance}`)}`,
        onclick: this.actions?.open ? () => this.actions.open(booking, day.date, slot) : null,
      }, h("bdi", {}, name), attendance === "booked" ? null
        : h("span", { class: `attendance-badge attendance-${attendance}` }, t(`attendance.${attendance}`))));
      const button = item.firstChild;
      button.addEventListener("dragstart", (event) => {
        event.dataTransfer.setData("application/x-booking", String(booking.id)); // for the drop targets' dragover
        event.dataTransfer.effectAllowed = "move";
        this.dragging = { id: booking.id, date: day.date, slot: slot.time_slot };
      });
      button.addEventListener("dragend", () => { this.dragging = null; });
      return item;
    };
    const shown = slot.reservations.slice(0, NAMES_SHOWN).map(chip);
    const rest = slot.reservations.slice(NAMES_SHOWN);
    return h("ul", { class: "board-people" }, shown,
      rest.length ? h("li", { class: "person-more" },
        h("details", {}, h("summary", {}, t("calendar.more", { count: rest.length })), h("ul", { class: "board-people" }, rest.map(chip)))) : null);
  }

  dropTarget(td, date, slot) {
    td.addEventListener("dragover", (event) => {
      if (!this.dragging) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      td.classList.add("board-drop");
    });
    td.addEventListener("dragleave", () => td.classList.remove("board-drop"));
    td.addEventListener("drop", (event) => {
      td.classList.remove("board-drop");
      // Only a booking dragged from this board moves: what another page drops here (its data can say anything) is
      // ignored.
      const dragged = this.dragging;
      this.dragging = null;
      if (!dragged) return;
      event.preventDefault();
      if (dragged.date === date && dragged.slot === slot.time_slot) return;
      this.actions.move(dragged, date, slot);
    });
  }

  // --- month ------------------------------------------------------------------------------------------

  /** @param {CalendarSnapshot} snapshot */
  month(snapshot) {
    const month = this.date.slice(0, 7);
    const names = snapshot.days.slice(0, 7).map((day) => h("th", { scope: "col" }, FORMATS.weekday.format(utc(day.date))));
    const weeks = [];
    for (let at = 0; at < snapshot.days.length; at += 7) {
      weeks.push(h("tr", {}, snapshot.days.slice(at, at + 7).map((day) => this.monthDay(day, month))));
    }
    return h("table", { class: "board-month", "aria-label": FORMATS.month.format(utc(`${month}-01`)) },
      h("thead", {}, h("tr", {}, names)), h("tbody", {}, weeks));
  }

  /** @param {SnapshotDay} day */
  monthDay(day, month) {
    let capacity = 0;
    for (const /** @type {SnapshotSlot} */ slot of day.slots) if (slot.in_hours) capacity += slot.capacity.operator;
    const load = day.status === "open" || day.status === "past" ? fullness(day.booked, capacity) : 0;
    return h("td", {
      class: `board-month-day day-${day.status} fill-${load}${day.date.slice(0, 7) === month ? "" : " board-other-month"}`,
      dataset: { date: day.date, status: day.status, booked: day.booked, capacity },
    },
      h("div", { class: "board-month-head" },
        h("a", { href: `?view=week&date=${day.date}`, class: "board-month-date", dataset: { goto: day.date },
          "aria-label": t("board.open_week", { day: FORMATS.day.format(utc(day.date)) }) }, FORMATS.dayOfMonth.format(utc(day.date))),
        h("span", { class: "board-hijri" }, hijriLabel(day.hijri_date, { year: false })),
        this.selectBox(day)),
      h("div", { class: "board-month-load" },
        h("span", { class: "board-day-total", dataset: { total: day.booked } }, t("calendar.booked", { count: day.booked })),
        capacity ? h("span", { class: "board-month-capacity" }, t("board.of_capacity", { capacity })) : null),
      day.status === "closed" || day.status === "vacation" ? h("div", { class: "board-day-note" }, dayNote(day)) : null);
  }

  /** The box that selects a day for closing (a past day cannot be); none on a board without actions.
   * @param {SnapshotDay} day */
  selectBox(day) {
    if (!this.actions) return null;
    const box = h("input", { type: "checkbox", class: "board-select", "aria-label": t("board.select", { day: FORMATS.day.format(utc(day.date)) }),
      checked: this.selected.has(day.date), disabled: day.status === "past" });
    box.addEventListener("change", () => this.toggle(day.date, box.checked));
    return box;
  }

  toggle(day, on) {
    if (on) this.selected.add(day);
    else this.selected.delete(day);
    this.root.dispatchEvent(new CustomEvent("selection", { detail: [...this.selected].sort() }));
  }
}

/** @param {SnapshotDay} day */
function dayNote(day) {
  if (day.status === "vacation") return [icon("sun"), " ", h("bdi", {}, day.vacation || t("calendar.status.closed"))];
  if (day.status === "closed") return t("calendar.status.closed");
  return "";
}

function utc(iso) {
  return new Date(`${iso}T00:00:00Z`);
}

/** Sorted days cut into runs of consecutive days: each run is one closure. */
export function runsOf(days) {
  const runs = [];
  for (const day of [...days].sort()) {
    const last = runs[runs.length - 1];
    if (last && addDays(last.end, 1) === day) last.end = day;
    else runs.push({ start: day, end: day });
  }
  return runs;
}

// A booking's history in its dialog: when it was made and by whom, then each change (moved, cancelled, marked,
// restored by an undo) with when and who signed it, oldest first, as `GET /reservations/{id}/history` gives it.

import { authorLabel } from "./authors.js";
import { h } from "./dom.js";
import { define, t } from "./i18n.js";

define({
  "booking_history.title": { en: "History", ar: "السجل" },
  "booking_history.loading": { en: "Loading…", ar: "جارٍ التحميل…" },
  "booking_history.action.created": { en: "Booked", ar: "حُجز" },
  "booking_history.action.moved": { en: "Moved", ar: "نُقل" },
  "booking_history.action.modified": { en: "Changed", ar: "عُدّل" },
  "booking_history.action.cancelled": { en: "Cancelled", ar: "أُلغي" },
  "booking_history.action.reinstated": { en: "Booked again", ar: "أُعيد حجزه" },
  "booking_history.action.restored": { en: "Restored", ar: "استُعيد" },
  "booking_history.action.confirmed": { en: "Confirmed", ar: "أُكِّد" },
  "booking_history.action.arrived": { en: "Arrived", ar: "حضر" },
  "booking_history.action.no_show": { en: "No-show", ar: "لم يحضر" },
  "booking_history.action.unmarked": { en: "Mark undone", ar: "أُلغي التسجيل" },
  "booking_history.undo": { en: "(undo)", ar: "(تراجع)" },
});

const ACTIONS = new Set(["created", "moved", "modified", "cancelled", "reinstated", "restored", "confirmed", "arrived",
  "no_show", "unmarked"]);

export class BookingHistory {
  /** api(path): the bridge API. The element goes in the booking dialog; `show` fills it for one booking. */
  constructor(api) {
    this.api = api;
    this.list = h("ol", { class: "booking-history-list" });
    this.element = h("details", { class: "booking-history", open: true },
      h("summary", {}, t("booking_history.title")), this.list);
  }

  async show(reservationId) {
    this.shown = reservationId;
    this.list.replaceChildren(h("li", { class: "hint" }, t("booking_history.loading")));
    let history;
    try {
      history = await this.api(`/reservations/${encodeURIComponent(reservationId)}/history`);
    } catch (failure) {
      if (this.shown === reservationId) this.list.replaceChildren(h("li", { class: "form-error" }, failure.message));
      return;
    }
    if (this.shown !== reservationId) return; // another booking was opened meanwhile
    this.list.replaceChildren(...history.events.map((event) => step(event)));
  }
}

function step(event) {
  const action = ACTIONS.has(event.action) ? t(`booking_history.action.${event.action}`) : event.action;
  const where = [event.from_date && event.action !== "created" ? `${event.from_date} ${event.from_time || ""}`.trim() : null,
    event.date ? `${event.date} ${event.time_slot || ""}`.trim() : null].filter(Boolean);
  const unique = where.length === 2 && where[0] === where[1] ? [where[1]] : where;
  return h("li", { class: "booking-history-step", dataset: { action: event.action, by: event.by || "" } },
    h("time", { class: "hint", datetime: event.at || "" }, (event.at || "").replace("T", " ").slice(0, 16)), " ",
    h("strong", {}, action), event.tool === "system_undo_batch" ? ` ${t("booking_history.undo")}` : "",
    unique.length ? [" · ", h("span", { dir: "ltr" }, unique.join(" → "))] : "",
    " · ", h("bdi", { class: "booking-history-author" }, authorLabel(event)));
}

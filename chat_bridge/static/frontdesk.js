// The front desk's acts: book a slot, move, cancel or retype a booking, close days, and the batch history with
// undo (each batch signed by who ran it). Each act is a batch the server runs under the same rules as the agent's (`/batches/*`, `/closures`); a
// batch past the confirmation limits comes back asking, and only the operator's click here sends its token back.
// A refusal shows the rule's sentence as the server wrote it.

import { authorChip, authorLabel } from "./authors.js";
import { BookingHistory } from "./bookinghistory.js";
import { previewList } from "./confirmcard.js";
import { h } from "./dom.js";
import { define, lang, number, slotTime, t } from "./i18n.js";
import { ContactCombobox, contactLabel } from "./combobox.js";
import { runsOf } from "./board.js";

const HISTORY_SHOWN = 20;

define({
  "desk.when": { en: "{date} · {time} · {booked} / {capacity} booked", ar: "{date} · {time} · {booked} / {capacity} محجوز" },
  "desk.choose_customer": { en: "Choose a customer by name, or type their number.", ar: "اختر عميلًا بالاسم، أو اكتب رقمه." },
  "desk.nothing_changed": { en: "Nothing was changed.", ar: "لم يتغير شيء." },
  "desk.no_batch": { en: "No batch has run yet.", ar: "لم تُنفَّذ أي دفعة بعد." },
  "desk.undo": { en: "Undo", ar: "تراجع" },
  "desk.undone": { en: "Undone", ar: "تم التراجع" },
  "desk.counts": { en: "{ok} ok, {failed} failed", ar: "{ok} نجح، {failed} تعذّر" },
  "desk.messaged": { en: "messaged: {list}", ar: "رسائل: {list}" },
  "desk.asked": { en: "Asked: {request}", ar: "الطلب: {request}" },
  "desk.run": { en: "{start} to {end}", ar: "من {start} إلى {end}" },
  "desk.what_changed": { en: "What it changed", ar: "ما الذي غيّرته" },
  "desk.no_changes": { en: "No booking changed.", ar: "لم يتغير أي حجز." },
  "desk.told": { en: "Messaged ({status}): ", ar: "أُبلغ ({status}): " },
  "desk.attendance": { en: "Attendance: {status}", ar: "الحضور: {status}" },
  "desk.mark_confirmed": { en: "Confirmed", ar: "مؤكَّد" },
  "desk.mark_arrived": { en: "Arrived", ar: "حضر" },
  "desk.mark_no_show": { en: "No-show", ar: "لم يحضر" },
});

const MARKS = ["confirmed", "arrived", "no_show"];

export class FrontDesk {
  /** api(path, options): the bridge API; config: `/config`; els: the dialogs and the status line. */
  constructor({ api, config, els, onChanged }) {
    this.api = api;
    this.config = config;
    this.els = els;
    this.onChanged = onChanged;
    this.wire();
  }

  wire() {
    const { book, sheet, close, confirm, history } = this.els;
    this.customer = new ContactCombobox({
      input: book.querySelector("#book-customer"), listbox: book.querySelector("#book-customer-list"),
      status: book.querySelector("#book-customer-status"),
      loadAll: async () => (await this.api("/customers/names")).filter((c) => !c.is_system_agent),
      search: async (query) => (await this.api(`/customers/search?q=${encodeURIComponent(query)}&limit=20`))
        .filter((c) => !c.is_system_agent),
      onSelect: (contact) => { this.customer.select(contact); this.customer.input.value = contactLabel(contact); },
      unread: () => 0,
    });
    book.querySelector("form").addEventListener("submit", (event) => { event.preventDefault(); this.submitBooking(); });
    sheet.querySelector("[data-act=cancel]").addEventListener("click", () => this.cancelBooking());
    sheet.querySelector(".form-error").before(this.attendanceRow());
    this.bookingHistory = new BookingHistory(this.api);
    sheet.querySelector(".form-error").before(this.bookingHistory.element);
    sheet.querySelector("form").addEventListener("submit", (event) => { event.preventDefault(); this.retype(); });
    close.querySelector("form").addEventListener("submit", (event) => { event.preventDefault(); this.submitClosure(); });
    for (const dialog of [book, sheet, close, confirm, history]) {
      dialog.querySelector("[data-act=dismiss]")?.addEventListener("click", () => dialog.close());
    }
    const types = this.config.reservation_types.map((t) => h("option", { value: String(t.id) }, t.name));
    book.querySelector("#book-type").replaceChildren(...types);
    sheet.querySelector("#booking-type").replaceChildren(...types.map((o) => o.cloneNode(true)));
  }

  // --- book --------------------------------------------------------------------------------------------

  /** The booking dialog for a slot. @param {SnapshotSlot} slot */
  book(date, slot) {
    const dialog = this.els.book;
    this.booking = { date, slot };
    dialog.querySelector("#book-when").textContent = t("desk.when", { date, time: slotTime(slot.time_slot, slot.time_label), booked: slot.booked, capacity: slot.capacity.operator });
    dialog.querySelector(".form-error").textContent = "";
    this.customer.selected = null;
    this.customer.input.value = "";
    dialog.showModal();
    this.customer.input.focus();
  }

  async submitBooking() {
    const dialog = this.els.book;
    const typed = this.customer.input.value.trim();
    const chosen = this.customer.selected;
    const waId = chosen ? chosen.wa_id : typed;
    if (!waId) {
      dialog.querySelector(".form-error").textContent = t("desk.choose_customer");
      return;
    }
    const item = { wa_id: waId, date: this.booking.date, time_slot: this.booking.slot.time_slot,
      reservation_type: Number(dialog.querySelector("#book-type").value) };
    const answer = await this.batch("/batches/reserve", { requests: [item] }, dialog);
    if (answer && answer.status !== "needs_confirmation") dialog.close();
  }

  // --- one booking: cancel, change its type, move --------------------------------------------------

  /** The dialog of one booking. @param {SlotBooking} booking @param {SnapshotSlot} slot */
  open(booking, date, slot) {
    const dialog = this.els.sheet;
    this.current = { booking, date, slot };
    dialog.querySelector("#booking-who").textContent = booking.customer_name || `+${booking.wa_id}`;
    dialog.querySelector("#booking-when").textContent = `${date} · ${slotTime(slot.time_slot, slot.time_label)} · +${booking.wa_id}`;
    dialog.querySelector("#booking-type").value = String(booking.type);
    dialog.querySelector(".form-error").textContent = "";
    const attendance = booking.attendance || "booked";
    dialog.querySelector(".booking-attendance").dataset.attendance = attendance;
    dialog.querySelector(".booking-attendance-status").textContent = t("desk.attendance", { status: t(`attendance.${attendance}`) });
    dialog.showModal();
    this.bookingHistory.show(booking.id);
  }

  /** The booking dialog's attendance: where it stands, and a button per mark (the server says which it refuses). */
  attendanceRow() {
    return h("div", { class: "booking-attendance dialog-row" },
      h("span", { class: "booking-attendance-status hint" }),
      MARKS.map((mark) => h("button", { type: "button", class: "button", dataset: { mark },
        onclick: () => this.markBooking(mark) }, t(`desk.mark_${mark}`))));
  }

  async markBooking(mark) {
    const dialog = this.els.sheet;
    const answer = await this.batch("/attendance", { mark, reservation_ids: [this.current.booking.id] }, dialog);
    if (answer && answer.status !== "needs_confirmation") dialog.close();
  }

  /** Mark a day's unmarked bookings (the ids the server listed) as no-shows, in one batch. @param {SnapshotDay} day */
  async markDay(day) {
    if (day.unmarked.length) await this.batch("/attendance", { mark: "no_show", reservation_ids: day.unmarked });
  }

  async cancelBooking() {
    const dialog = this.els.sheet;
    const notify = dialog.querySelector("#booking-notify").checked;
    const answer = await this.batch("/batches/cancel", { requests: [{ reservation_id: this.current.booking.id }], notify }, dialog);
    if (answer && answer.status !== "needs_confirmation") dialog.close();
  }

  async retype() {
    const dialog = this.els.sheet;
    const type = Number(dialog.querySelector("#booking-type").value);
    if (type === this.current.booking.type) return dialog.close();
    const answer = await this.batch("/batches/modify", { requests: [{ reservation_id: this.current.booking.id, new_type: type }] }, dialog);
    if (answer && answer.status !== "needs_confirmation") dialog.close();
  }

  /** A booking dropped on another slot. */
  async move(dragged, date, slot) {
    await this.batch("/batches/modify", { requests: [{ reservation_id: dragged.id, new_date: date, new_time: slot.time_slot }] });
  }

  // --- close days --------------------------------------------------------------------------------------

  closeDays(days) {
    if (!days.length) return;
    const dialog = this.els.close;
    this.closing = runsOf(days);
    dialog.querySelector("#close-days").textContent = this.closing
      .map((run) => (run.start === run.end ? run.start : t("desk.run", { start: run.start, end: run.end }))).join(lang === "ar" ? "، " : ", ");
    dialog.querySelector(".form-error").textContent = "";
    dialog.showModal();
  }

  async submitClosure() {
    const dialog = this.els.close;
    const title = dialog.querySelector("#close-title").value.trim();
    const notify = dialog.querySelector("#close-notify").checked;
    for (const run of this.closing) {
      const answer = await this.batch("/closures", { start_date: run.start, end_date: run.end, title, notify }, dialog);
      if (!answer) return;
    }
    dialog.close();
    this.onChanged("closed");
  }

  // --- history and undo --------------------------------------------------------------------------------

  async history() {
    const dialog = this.els.history;
    if (!dialog.open) dialog.showModal();
    const list = dialog.querySelector(".history-list");
    const error = dialog.querySelector(".form-error");
    error.textContent = "";
    let /** @type {BatchHistory} */ page;
    try {
      page = await this.api(`/batches?limit=${HISTORY_SHOWN}`);
    } catch (failure) {
      error.textContent = failure.message;
      return;
    }
    list.replaceChildren(...page.batches.map((batch) => this.listed(batch)));
    if (!page.batches.length) list.replaceChildren(h("li", { class: "hint" }, t("desk.no_batch")));
  }

  /** @param {ListedBatch} batch */
  listed(batch) {
    const told = Object.entries(batch.notices || {}).map(([status, n]) => `${number(n)} ${status}`).join(", ");
    const changed = Object.entries(batch.by_action || {}).map(([action, n]) => `${number(n)} ${action}`).join(", ");
    const undo = h("button", { type: "button", class: "button", disabled: Boolean(batch.undone_at), onclick: () => this.undo(batch) },
      batch.undone_at ? t("desk.undone") : t("desk.undo"));
    return h("li", { class: "history-item", dataset: { batchId: batch.batch_id, by: batch.by, author: batch.author ?? "", tool: batch.tool } },
      h("div", { class: "history-head" },
        h("bdi", { class: `chip history-author ${authorChip(batch.by)}` }, authorLabel(batch)),
        h("span", { class: "history-what", dir: "auto" }, batch.what),
        h("time", { class: "hint", datetime: batch.at || "" }, (batch.at || "").replace("T", " ").slice(0, 16))),
      h("p", { class: "history-counts" }, t("desk.counts", { ok: batch.ok, failed: batch.failed }), changed ? ` · ${changed}` : "",
        told ? ` · ${t("desk.messaged", { list: told })}` : ""),
      batch.request ? h("p", { class: "history-request hint", dir: "auto" }, t("desk.asked", { request: batch.request })) : null,
      h("div", { class: "history-actions" }, this.changes(batch), undo));
  }

  /** What the batch changed, read when opened. @param {ListedBatch} batch */
  changes(batch) {
    const list = h("ul", { class: "history-changes" });
    const details = h("details", { class: "history-details" }, h("summary", {}, t("desk.what_changed")), list);
    details.addEventListener("toggle", async () => {
      if (!details.open || list.dataset.loaded) return;
      list.dataset.loaded = "true";
      try {
        const recorded = await this.api(`/batches/${encodeURIComponent(batch.batch_id)}`);
        const rows = recorded.changes.map((/** @type {RecordedChange} */ change) => h("li", { dataset: { reservationId: change.reservation_id ?? "" } },
          h("bdi", {}, change.customer_name || (change.wa_id ? `+${change.wa_id}` : "")), ` · ${change.action} · `,
          h("span", { dir: "ltr" }, [change.from_date && `${change.from_date} ${change.from_time || ""}`.trim(),
            change.date && `${change.date} ${change.time_slot || ""}`.trim()].filter(Boolean).join(" → "))));
        const told = recorded.messaged.map((/** @type {NoticeRecipient} */ notice) => h("li", { class: "history-messaged", dataset: { waId: notice.wa_id, status: notice.status } },
          t("desk.told", { status: notice.status }), h("bdi", {}, notice.customer_name || `+${notice.wa_id}`), ` · ${notice.purpose}`));
        list.replaceChildren(...(rows.length ? rows : [h("li", { class: "hint" }, t("desk.no_changes"))]), ...told);
      } catch (failure) {
        list.replaceChildren(h("li", { class: "form-error" }, failure.message));
      }
    });
    return details;
  }

  /** @param {ListedBatch} batch */
  async undo(batch) {
    const answer = await this.batch(`/batches/${encodeURIComponent(batch.batch_id)}/undo`, {}, this.els.history);
    if (answer) await this.history();
  }

  // --- running a batch ---------------------------------------------------------------------------------

  /**
   * POST `body` to `path`; a batch asking for confirmation is shown to the operator, and sent again with its token
   * only if they confirm. The answer (null when refused or declined); its sentence goes to the status line or the
   * dialog's error.
   */
  async batch(path, body, dialog = null) {
    const error = dialog?.querySelector(".form-error");
    if (error) error.textContent = "";
    let answer;
    try {
      if (lang === "ar") body = { ...body, ar: true }; // the rules' sentences in the operator's language
      answer = await this.api(path, { method: "POST", body });
      if (answer.status === "needs_confirmation") {
        const agreed = await this.confirm(answer);
        if (!agreed) {
          this.say(t("desk.nothing_changed"), "info");
          return null;
        }
        answer = await this.api(path, { method: "POST", body: { ...body, confirmation_token: answer.confirmation.token } });
      }
    } catch (failure) {
      if (error) error.textContent = failure.message;
      else this.say(failure.message, "error");
      return null;
    }
    const refusals = (answer.failures || []).map((group) => group.message);
    if (answer.status === "applied" && !refusals.length) this.say(answer.message, "ok");
    else {
      const sentence = refusals.length ? refusals.join(" ") : answer.message;
      if (error) error.textContent = sentence;
      this.say(sentence, "error");
      if (answer.status !== "applied") answer = null;
    }
    this.onChanged();
    return answer;
  }

  /** Ask the operator about a batch past the limits; true when they confirm. */
  confirm(answer) {
    const dialog = this.els.confirm;
    dialog.querySelector(".confirm-message").textContent = [answer.message, answer.hint].filter(Boolean).join(" ");
    dialog.querySelector(".confirm-preview-slot").replaceChildren(previewList(answer.confirmation?.preview) ?? "");
    return new Promise((resolve) => {
      const yes = dialog.querySelector("[data-act=confirm]");
      const no = dialog.querySelector("[data-act=decline]");
      const done = (value) => {
        yes.removeEventListener("click", onYes);
        no.removeEventListener("click", onNo);
        dialog.removeEventListener("cancel", onNo);
        dialog.close();
        resolve(value);
      };
      const onYes = () => done(true);
      const onNo = () => done(false);
      yes.addEventListener("click", onYes);
      no.addEventListener("click", onNo);
      dialog.addEventListener("cancel", onNo);
      dialog.showModal();
    });
  }

  say(text, kind) {
    const line = this.els.status;
    line.textContent = text;
    line.dataset.kind = kind;
  }
}

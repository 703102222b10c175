// A confirmation card in the conversation: what a batch that asks would do (its preview), and the operator's
// Confirm or Cancel; its state once answered, expired or in flight.

import { h, icon, leftToRight, shortTime } from "./dom.js";
import { dateFormat, define, number, t } from "./i18n.js";

define({
  "confirm.title": { en: "Confirmation needed", ar: "يلزم تأكيدك" },
  "confirm.accept": { en: "Confirm", ar: "تأكيد" },
  "confirm.decline": { en: "Cancel", ar: "إلغاء" },
  "confirm.preview.reservations": { en: "Reservations", ar: "الحجوزات" },
  "confirm.preview.days": { en: "Days", ar: "الأيام" },
  "confirm.preview.actions": { en: "Changes", ar: "التغييرات" },
  "confirm.preview.failures": { en: "Would fail", ar: "لن تنجح" },
  "confirm.preview.matched": { en: "Matched by search", ar: "نتائج البحث" },
  "confirm.preview.noName": { en: "(no name)", ar: "(بلا اسم)" },
  "confirm.preview.people": { en: "Customers", ar: "العملاء" },
  "confirm.preview.more": { en: "and {count} more", ar: "و{count} غيرهم" },
  "confirm.preview.notices": { en: "WhatsApp notices", ar: "إشعارات واتساب" },
  "confirm.preview.text": { en: "Exact text", ar: "النص حرفيًا" },
  "confirm.preview.leftOut": { en: "Left out", ar: "مستثنون" },
  "confirm.preview.why.blocked": { en: "blocked", ar: "محظور" },
  "confirm.preview.why.opted_out": { en: "opted out of notices", ar: "ألغى الاشتراك في الإشعارات" },
  "confirm.preview.channel.text": { en: "a message (their 24-hour window is open until {time})",
    ar: "رسالة (نافذة الـ24 ساعة مفتوحة حتى {time})" },
  "confirm.preview.channel.template": { en: "the approved template (outside their 24-hour window)",
    ar: "القالب المعتمد (خارج نافذة الـ24 ساعة)" },
  // Not "·" in Arabic: beside Arabic-Indic digits it reads as a zero (٠).
  "confirm.preview.dayCount": { en: "{day} · {count}", ar: "{day} ({count})" },
  "confirm.state.sending": { en: "Sending your answer…", ar: "جارٍ إرسال ردّك…" },
  "confirm.state.accepted": { en: "Confirmed: the agent is applying the change.",
    ar: "تم التأكيد: المساعد الذكي ينفّذ التغيير." },
  "confirm.state.declined": { en: "Cancelled: nothing was changed.", ar: "أُلغي: لم يتغيّر شيء." },
  "confirm.state.expired": { en: "No answer in time: nothing was changed.",
    ar: "لم يصل ردّ في الوقت المحدد: لم يتغيّر شيء." },
});

const CARD_STATES = new Set(["sending", "accepted", "declined", "expired"]);

/** `decline`: the no button's label (the console's "Cancel"; a view where "Cancel" could read as the batch's own
 * verb says "Decline"). */
export function confirmationCard({ id, text, preview, state, messageId, timestamp, onAnswer, decline = t("confirm.decline") }) {
  const titleId = `confirmation-title-${id}`;
  const buttons = h("div", { class: "confirm-actions" },
    h("button", { type: "button", class: "button button-primary", "data-action": "confirm", onclick: () => onAnswer(id, true) },
      icon("check"), t("confirm.accept")),
    h("button", { type: "button", class: "button", "data-action": "decline", onclick: () => onAnswer(id, false) },
      decline));
  const card = h("section", {
    class: "confirm-card", role: "group", "aria-labelledby": titleId,
    dataset: { confirmationId: id, ...(messageId !== undefined ? { messageId } : {}) },
  },
    h("header", {},
      icon("shield"),
      h("h3", { id: titleId }, t("confirm.title")),
      h("time", { datetime: timestamp || "" }, shortTime(timestamp))),
    text ? h("p", { class: "confirm-text", dir: "auto" }, isolated(text)) : null,
    previewList(preview),
    buttons,
    h("p", { class: "confirm-state", role: "status" }));
  setCardState(card, state);
  return card;
}

// A quoted string of the question (a customer's name, a notice's text: JSON-quoted by the server).
const QUOTED = /("(?:[^"\\\n]|\\.)*")/;

/** The question's text with each quoted part isolated (`<bdi>`): an Arabic name would otherwise pull the number and
 * date after it into its right-to-left run, and show them reordered. */
function isolated(text) {
  return text.split(QUOTED).map((part, index) => (index % 2 ? h("bdi", {}, part) : part));
}

/** @param {Card} preview the card of a batch that asks, as the server declares it */
export function previewList(preview) {
  if (!preview || typeof preview !== "object") return null;
  const days = Object.entries(preview.days || {});
  const actions = Object.entries(preview.actions || {});
  const failures = Object.entries(preview.failures || {});
  const matched = Array.isArray(preview.matched_customers) ? preview.matched_customers.slice(0, 20) : [];
  const affected = Array.isArray(preview.affected) ? preview.affected : [];
  const told = Array.isArray(preview.notices?.recipients) ? preview.notices.recipients : [];
  const toldMore = Math.max(0, (preview.notices?.customers || 0) - told.length);
  const texts = Object.entries(preview.notices?.examples || {});
  const left = Array.isArray(preview.notices?.left_out_customers) ? preview.notices.left_out_customers : [];
  const leftMore = Math.max(0, Object.values(preview.notices?.left_out || {}).reduce((a, b) => a + b, 0) - left.length);
  return h("dl", { class: "confirm-preview" },
    h("div", {}, h("dt", {}, t("confirm.preview.reservations")),
      h("dd", { "data-preview": "reservations" }, counted(preview.reservations ?? "—"))),
    days.length ? h("div", {}, h("dt", {}, t("confirm.preview.days")), h("dd", { "data-preview": "days" },
      h("ul", {}, days.map(([day, count]) => h("li", {}, t("confirm.preview.dayCount", { day: formatDay(day), count })))))) : null,
    actions.length ? h("div", {}, h("dt", {}, t("confirm.preview.actions")), h("dd", { "data-preview": "actions" },
      h("ul", {}, actions.map(([action, count]) => h("li", {}, h("bdi", {}, action), `: ${counted(count)}`))))) : null,
    failures.length ? h("div", {}, h("dt", {}, t("confirm.preview.failures")), h("dd", { "data-preview": "failures" },
      h("ul", {}, failures.map(([code, count]) => h("li", {}, h("bdi", {}, code), `: ${counted(count)}`))))) : null,
    matched.length ? h("div", {}, h("dt", {}, t("confirm.preview.matched")), h("dd", { "data-preview": "matched" },
      h("ul", {}, matched.map((customer) => h("li", { dir: "auto" },
        h("bdi", {}, customer.name || t("confirm.preview.noName")), " · ", leftToRight(`+${customer.wa_id}`)))))) : null,
    affected.length ? h("div", {}, h("dt", {}, t("confirm.preview.people")), h("dd", { "data-preview": "people" },
      h("ul", {}, affected.map(person), preview.affected_more
        ? h("li", {}, t("confirm.preview.more", { count: preview.affected_more })) : null))) : null,
    told.length ? h("div", {}, h("dt", {}, t("confirm.preview.notices")), h("dd", { "data-preview": "notices" },
      h("ul", {}, told.map(recipient), toldMore
        ? h("li", {}, t("confirm.preview.more", { count: toldMore })) : null))) : null,
    texts.length ? h("div", {}, h("dt", {}, t("confirm.preview.text")), h("dd", { "data-preview": "text" },
      texts.map(([language, text]) => h("blockquote", { class: "confirm-quote", lang: language, dir: "auto" }, text)))) : null,
    left.length ? h("div", {}, h("dt", {}, t("confirm.preview.leftOut")), h("dd", { "data-preview": "left-out" },
      h("ul", {}, left.map(leftOut), leftMore
        ? h("li", {}, t("confirm.preview.more", { count: leftMore })) : null))) : null);
}

/** One customer a notice will not reach, and why (blocked, opted out). */
function leftOut(person) {
  const why = ["blocked", "opted_out"].includes(person.why) ? t(`confirm.preview.why.${person.why}`) : String(person.why || "");
  return h("li", { dir: "auto", "data-why": person.why || "" },
    h("bdi", {}, person.name || leftToRight(`+${person.wa_id}`)), ` · ${why}`);
}

/** One customer a notice goes to, and how: as a message inside their 24-hour window, else the approved template. */
function recipient(reached) {
  const how = reached.channel === "text"
    ? t("confirm.preview.channel.text", { time: shortTime(reached.window_closes_at) })
    : t("confirm.preview.channel.template");
  return h("li", { dir: "auto", "data-channel": reached.channel },
    h("bdi", {}, reached.name || leftToRight(`+${reached.wa_id}`)), ` · ${how}`);
}

/** One customer a batch changes: who, what, from and to. @param {CardPerson} someone */
function person(someone) {
  const moved = [someone.from, someone.to].filter(Boolean).join(" → ");
  return h("li", { dir: "auto" }, h("bdi", {}, someone.name || leftToRight(`+${someone.wa_id}`)),
    ` · ${someone.action || ""}`, moved ? [" · ", leftToRight(moved)] : null);
}

/** A count as the language writes it; anything else (a dash) as it is. */
function counted(value) {
  return typeof value === "number" ? number(value) : String(value);
}

export function setCardState(card, state, detail) {
  const normal = { confirmed: "accepted", accept: "accepted", cancelled: "declined", cancel: "declined", decline: "declined",
    timeout: "expired", timed_out: "expired" }[state] || state;
  card.dataset.state = normal;
  card.querySelectorAll("button").forEach((button) => { button.disabled = normal !== "pending"; });
  card.querySelector(".confirm-state").textContent = detail || (CARD_STATES.has(normal) ? t(`confirm.state.${normal}`) : "");
}

const dayFormat = dateFormat({ weekday: "short", day: "numeric", month: "short", year: "numeric" });

/** "Wed, 2 Dec 2026" for "2026-12-02" (a calendar date, whatever the browser's zone). */
export function formatDay(iso) {
  const moment = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(moment.getTime()) ? iso : dayFormat.format(moment);
}

// The notices panel: per batch that messaged customers, how far its WhatsApp notices got, and what failed; and
// the notices whose send is unsure (a send began, WhatsApp never answered), each with the operator's two choices.

import { h, leftToRight } from "./dom.js";
import { define, number, t } from "./i18n.js";

define({
  "notices.status.queued": { en: "Queued", ar: "في الانتظار" },
  "notices.status.sent": { en: "Sent", ar: "أُرسلت" },
  "notices.status.delivered": { en: "Delivered", ar: "وصلت" },
  "notices.status.read": { en: "Read", ar: "قُرئت" },
  "notices.status.failed": { en: "Failed", ar: "فشلت" },
  "notices.status.unsure": { en: "Unsure", ar: "غير مؤكَّدة" },
  "notices.purpose.moved": { en: "moved", ar: "نقل موعد" },
  "notices.purpose.booked": { en: "booked", ar: "حجز" },
  "notices.purpose.cancelled": { en: "cancelled", ar: "إلغاء" },
  "notices.purpose.reminder": { en: "reminder", ar: "تذكير" },
  "notices.purpose.notice": { en: "message", ar: "رسالة" },
  "notices.purpose.reply": { en: "reply", ar: "ردّ" },
  "notices.purpose.same_day": { en: "reminder today", ar: "تذكير اليوم" },
  "notices.purpose.offer": { en: "waitlist offer", ar: "عرض من قائمة الانتظار" },
  "notices.purpose.offer_gone": { en: "offer gone", ar: "انتهى العرض" },
  "notices.resend": { en: "Send again", ar: "إعادة الإرسال" },
  "notices.dismiss": { en: "Dismiss", ar: "تجاهل" },
  "notices.total": {
    en: { one: "{count} notice", other: "{count} notices" },
    ar: { zero: "{count} إشعار", one: "إشعار واحد", two: "إشعاران", few: "{count} إشعارات", many: "{count} إشعارًا",
      other: "{count} إشعار" },
  },
  "notices.failures": { en: "Not delivered", ar: "لم تصل" },
  "notices.failure": { en: "{status}: {reason}", ar: "{status}: {reason}" },
  "notices.failure.failed": { en: "failed", ar: "فشلت" },
  "notices.failure.skipped": { en: "skipped", ar: "تم تخطيها" },
  "notices.failure.noReason": { en: "no reason given", ar: "لم يُذكر سبب" },
  "notices.tool.system_batch_modify": { en: "Moved", ar: "نقل مواعيد" },
  "notices.tool.system_batch_cancel": { en: "Cancelled", ar: "إلغاء مواعيد" },
  "notices.tool.system_undo_batch": { en: "Undone", ar: "تراجع" },
  "notices.tool.system_message_customers": { en: "Message", ar: "رسالة" },
  "notices.tool.system_batch_reserve": { en: "Booked", ar: "حجز مواعيد" },
  "notices.tool.other": { en: "Batch", ar: "عملية جماعية" },
});

const SHOWN = ["queued", "sent", "delivered", "read", "failed", "unsure"];
const PURPOSES = new Set(["moved", "booked", "cancelled", "reminder", "notice", "reply", "same_day", "offer",
  "offer_gone"]);
const FAILURE_STATUSES = new Set(["failed", "skipped"]);
const TOOLS = new Set(["system_batch_modify", "system_batch_cancel", "system_undo_batch", "system_message_customers",
  "system_batch_reserve"]);

export class NoticesPanel {
  /** `decide(noticeId, "resend" | "dismiss")` sends the operator's choice on an unsure notice. */
  constructor(root, list, unsureBox, { load, decide }) {
    this.root = root;
    this.list = list;
    this.unsureBox = unsureBox;
    this.unsureList = unsureBox.querySelector("ul");
    this.load = load;
    this.decide = decide;
  }

  async refresh() {
    let data;
    try {
      data = await this.load();
    } catch {
      return;
    }
    this.render(data.batches || [], data.unsure || []);
  }

  render(batches, unsure) {
    this.root.hidden = batches.length === 0 && unsure.length === 0;
    this.unsureBox.hidden = unsure.length === 0;
    this.unsureList.replaceChildren(...unsure.map((/** @type {UnsureNotice} */ notice) => this.unsureItem(notice)));
    this.list.replaceChildren(...batches.map((/** @type {NoticeBatch} */ batch) => batchItem(batch)));
  }

  /** @param {UnsureNotice} notice */
  unsureItem(notice) {
    const problem = h("span", { class: "notice-why", role: "alert" });
    const choose = (choice) => async (event) => {
      for (const button of event.currentTarget.parentElement.querySelectorAll("button")) button.disabled = true;
      try {
        await this.decide(notice.notice_id, choice);
        await this.refresh();
      } catch (error) {
        problem.textContent = error.message; // another operator decided first, or the service is away
      }
    };
    return h("li", { class: "notice-unsure-item", dataset: { noticeId: notice.notice_id, waId: notice.wa_id } },
      h("span", { class: "notice-who", dir: "auto" }, notice.customer_name || leftToRight(`+${notice.wa_id}`)),
      h("span", { class: "notice-what" }, PURPOSES.has(notice.purpose) ? t(`notices.purpose.${notice.purpose}`) : notice.purpose),
      h("span", { class: "notice-text", dir: "auto", title: notice.text }, notice.text),
      h("div", { class: "notice-choices" },
        h("button", { class: "button notice-resend", type: "button", onclick: choose("resend") }, t("notices.resend")),
        h("button", { class: "button button-quiet notice-dismiss", type: "button", onclick: choose("dismiss") },
          t("notices.dismiss"))),
      problem);
  }
}

/** @param {NoticeBatch} batch */
function batchItem(batch) {
  const counts = batch.by_status || {};
  // "Queued" counts what has not left yet, claimed or not; skipped notices (opted out since) join the failures.
  const shown = { ...counts, queued: (counts.queued || 0) + (counts.sending || 0) };
  const failures = batch.failures || [];
  return h("li", { class: "notice-batch", dataset: { batchId: batch.batch_id } },
    h("div", { class: "notice-batch-head" },
      h("span", { class: "notice-batch-tool" }, toolLabel(batch.tool)),
      batch.created_at ? h("time", { class: "notice-batch-when", datetime: batch.created_at },
        batch.created_at.slice(0, 16).replace("T", " ")) : null,
      h("span", { class: "notice-batch-total" }, t("notices.total", { count: batch.total }))),
    h("dl", { class: "notice-counts" }, ...SHOWN.map((status) =>
      h("div", { class: `notice-count notice-${status}`, dataset: { status } },
        h("dt", {}, t(`notices.status.${status}`)), h("dd", {}, number(shown[status] || 0))))),
    failures.length ? h("ul", { class: "notice-failures", "aria-label": t("notices.failures") },
      ...failures.map((/** @type {NoticeFailure} */ failure) => h("li", { dataset: { waId: failure.wa_id } },
        h("span", { class: "notice-who", dir: "auto" }, failure.customer_name || leftToRight(`+${failure.wa_id}`)),
        h("span", { class: "notice-why" }, t("notices.failure", {
          status: FAILURE_STATUSES.has(failure.status) ? t(`notices.failure.${failure.status}`) : failure.status,
          reason: failure.error || t("notices.failure.noReason"),
        }))))) : null);
}

function toolLabel(tool) {
  return t(`notices.tool.${TOOLS.has(tool) ? tool : "other"}`);
}

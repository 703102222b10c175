// The notices panel: per batch that messaged customers, how far its WhatsApp notices got, and what failed; and
// the notices whose send is unsure (a send began, WhatsApp never answered), each with the operator's two choices.

import { h } from "./dom.js";

const SHOWN = ["queued", "sent", "delivered", "read", "failed", "unsure"];
const LABELS = { queued: "Queued", sent: "Sent", delivered: "Delivered", read: "Read", failed: "Failed",
  unsure: "Unsure" };
const PURPOSES = { moved: "moved", booked: "booked", cancelled: "cancelled", reminder: "reminder", notice: "message",
  reply: "reply" };

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
      h("span", { class: "notice-who", dir: "auto" }, notice.customer_name || `+${notice.wa_id}`),
      h("span", { class: "notice-what" }, PURPOSES[notice.purpose] || notice.purpose),
      h("span", { class: "notice-text", dir: "auto", title: notice.text }, notice.text),
      h("div", { class: "notice-choices" },
        h("button", { class: "button notice-resend", type: "button", onclick: choose("resend") }, "Send again"),
        h("button", { class: "button button-quiet notice-dismiss", type: "button", onclick: choose("dismiss") },
          "Dismiss")),
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
      h("span", { class: "notice-batch-total" }, `${batch.total} notice${batch.total === 1 ? "" : "s"}`)),
    h("dl", { class: "notice-counts" }, ...SHOWN.map((status) =>
      h("div", { class: `notice-count notice-${status}`, dataset: { status } },
        h("dt", {}, LABELS[status]), h("dd", {}, String(shown[status] || 0))))),
    failures.length ? h("ul", { class: "notice-failures", "aria-label": "Not delivered" }, ...failures.map((/** @type {NoticeFailure} */ failure) =>
      h("li", { dataset: { waId: failure.wa_id } },
        h("span", { class: "notice-who", dir: "auto" }, failure.customer_name || `+${failure.wa_id}`),
        h("span", { class: "notice-why" }, `${failure.status}: ${failure.error || "no reason given"}`)))) : null);
}

function toolLabel(tool) {
  const names = { system_batch_modify: "Moved", system_batch_cancel: "Cancelled", system_undo_batch: "Undone",
    system_message_customers: "Message", system_batch_reserve: "Booked" };
  return names[tool] || "Batch";
}

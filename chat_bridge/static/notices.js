// The notices panel: per batch that messaged customers, how far its WhatsApp notices got, and what failed.

import { h } from "./dom.js";

const SHOWN = ["queued", "sent", "delivered", "read", "failed"];
const LABELS = { queued: "Queued", sent: "Sent", delivered: "Delivered", read: "Read", failed: "Failed" };

export class NoticesPanel {
  constructor(root, list, { load }) {
    this.root = root;
    this.list = list;
    this.load = load;
  }

  async refresh() {
    let data;
    try {
      data = await this.load();
    } catch {
      return;
    }
    this.render(data.batches || []);
  }

  render(batches) {
    this.root.hidden = batches.length === 0;
    this.list.replaceChildren(...batches.map((batch) => batchItem(batch)));
  }
}

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
    failures.length ? h("ul", { class: "notice-failures", "aria-label": "Not delivered" }, ...failures.map((f) =>
      h("li", { dataset: { waId: f.wa_id } },
        h("span", { class: "notice-who", dir: "auto" }, f.customer_name || `+${f.wa_id}`),
        h("span", { class: "notice-why" }, `${f.status}: ${f.error || "no reason given"}`)))) : null);
}

function toolLabel(tool) {
  const names = { system_batch_modify: "Moved", system_batch_cancel: "Cancelled", system_undo_batch: "Undone",
    system_message_customers: "Message", system_batch_reserve: "Booked" };
  return names[tool] || "Batch";
}

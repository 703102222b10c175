// The waitlist panel: who waits for which days (an operator adds or removes them) and the places offered right now,
// each with its wave and until when it is held. The server decides everything; the panel shows what it answered.

import { h, leftToRight } from "./dom.js";
import { define, t } from "./i18n.js";
import { authorLabel } from "./authors.js";

define({
  "waitlist.title": { en: "Waitlist", ar: "قائمة الانتظار" },
  "waitlist.empty": { en: "Nobody is waiting.", ar: "لا أحد في قائمة الانتظار." },
  "waitlist.offers": { en: "Offered now", ar: "معروض الآن" },
  "waitlist.anyTime": { en: "any time", ar: "أي وقت" },
  "waitlist.anyType": { en: "any type", ar: "أي نوع" },
  "waitlist.range": { en: "{start} to {end}", ar: "من {start} إلى {end}" },
  "waitlist.by.customer": { en: "by the customer", ar: "من العميل" },
  "waitlist.by.operator": { en: "by an operator", ar: "من موظف الاستقبال" },
  "waitlist.by.agent": { en: "by the agent", ar: "من المساعد" },
  "waitlist.offer": {
    en: "{date} {time}, wave {wave}, held until {until}",
    ar: "{date} {time}، الدفعة {wave}، محجوز حتى {until}",
  },
  "waitlist.remove": { en: "Remove", ar: "إزالة" },
  "waitlist.add": { en: "Add to the waitlist", ar: "إضافة إلى قائمة الانتظار" },
  "waitlist.phone": { en: "WhatsApp number", ar: "رقم واتساب" },
  "waitlist.from": { en: "From", ar: "من" },
  "waitlist.to": { en: "To", ar: "إلى" },
  "waitlist.times": { en: "Start times (optional, e.g. 11:00, 13:00)", ar: "أوقات البدء (اختياري، مثل 11:00، 13:00)" },
});

const AUTHORS = new Set(["customer", "operator", "agent"]);

export class WaitlistPanel {
  /** `load()` reads GET /waitlist, `add(body)` posts an entry, `remove(id)` deletes one. */
  constructor(root, { load, add, remove }) {
    this.root = root;
    root.setAttribute("aria-label", t("waitlist.title"));
    this.load = load;
    this.add = add;
    this.remove = remove;
    this.entries = h("ul", { class: "waitlist-entries" });
    this.offers = h("ul", { class: "waitlist-offers", "aria-label": t("waitlist.offers") });
    this.problem = h("p", { class: "form-error waitlist-error", role: "alert" });
    root.replaceChildren(h("h2", { class: "waitlist-title" }, t("waitlist.title")), this.offers, this.entries,
      this.form(), this.problem);
  }

  async refresh() {
    let data;
    try {
      data = await this.load();
    } catch {
      return;
    }
    this.render(data.entries || [], data.offers || []);
  }

  render(entries, offers) {
    this.offers.hidden = offers.length === 0;
    this.offers.replaceChildren(...offers.map((offer) => offerItem(offer)));
    this.entries.replaceChildren(...(entries.length ? entries.map((entry) => this.entryItem(entry))
      : [h("li", { class: "waitlist-none hint" }, t("waitlist.empty"))]));
  }

  entryItem(entry) {
    const removing = async (event) => {
      event.currentTarget.disabled = true;
      await this.act(() => this.remove(entry.id));
    };
    const times = entry.times && entry.times.length ? entry.times.join(", ") : t("waitlist.anyTime");
    const by = entry.author_name ? authorLabel({ by: entry.author, author: entry.author_name })
      : AUTHORS.has(entry.author) ? t(`waitlist.by.${entry.author}`) : entry.author;
    return h("li", { class: "waitlist-entry", dataset: { entryId: entry.id, waId: entry.wa_id } },
      h("span", { class: "waitlist-who", dir: "auto" }, entry.customer_name || leftToRight(`+${entry.wa_id}`)),
      h("span", { class: "waitlist-when" }, t("waitlist.range", { start: entry.start_date, end: entry.end_date })),
      h("span", { class: "waitlist-what" }, `${times} · ${entry.type_name || t("waitlist.anyType")} · ${by}`),
      h("button", { class: "button button-quiet waitlist-remove", type: "button", onclick: removing },
        t("waitlist.remove")));
  }

  form() {
    const field = (name, label, type) => h("label", { class: "waitlist-field" }, h("span", {}, label),
      h("input", { name, type, required: name !== "times", dir: type === "text" ? "ltr" : undefined }));
    const form = h("form", { class: "waitlist-add" },
      field("wa_id", t("waitlist.phone"), "tel"), field("start_date", t("waitlist.from"), "date"),
      field("end_date", t("waitlist.to"), "date"), field("times", t("waitlist.times"), "text"),
      h("button", { class: "button", type: "submit" }, t("waitlist.add")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form));
      const times = String(values.times || "").split(",").map((s) => s.trim()).filter(Boolean);
      const body = { wa_id: values.wa_id, start_date: values.start_date, end_date: values.end_date };
      if (times.length) body.times = times;
      if (await this.act(() => this.add(body))) form.reset();
    });
    return form;
  }

  /** Run an operator's act, show the server's refusal if any, and read the waitlist again; whether it worked. */
  async act(work) {
    this.problem.textContent = "";
    try {
      await work();
      return true;
    } catch (error) {
      this.problem.textContent = error.message;
      return false;
    } finally {
      await this.refresh();
    }
  }
}

function offerItem(offer) {
  const until = offer.hold_until ? offer.hold_until.slice(11, 16) : "";
  return h("li", { class: "waitlist-offer", dataset: { offerId: offer.id, waId: offer.wa_id } },
    h("span", { class: "waitlist-who", dir: "auto" }, offer.customer_name || leftToRight(`+${offer.wa_id}`)),
    h("span", { class: "waitlist-when" }, t("waitlist.offer", { date: offer.date, time: offer.time_slot,
      wave: offer.wave, until })));
}

// The parts of the page that describe the chosen contact: the header, the agent notice, the recent list.

import { contactLabel } from "./combobox.js";
import { fill, h, icon, initials, leftToRight } from "./dom.js";
import { define, number, t } from "./i18n.js";

define({
  "panels.kind.agent": { en: "AI agent", ar: "المساعد الذكي" },
  "panels.kind.customer": { en: "Customer", ar: "العميل" },
  "panels.sub.agent": { en: "internal: messages never go to WhatsApp", ar: "داخلي: لا تُرسَل الرسائل إلى واتساب أبدًا" },
  "panels.sub.whatsapp": { en: "WhatsApp", ar: "واتساب" },
  "panels.sub.optedOut": { en: "opted out of notices", ar: "ألغى الاشتراك في الإشعارات" },
  "panels.notice.title": { en: "The AI agent is not configured: nothing can answer here yet.",
    ar: "المساعد الذكي غير مُعَدّ: لا يمكن لأحد الرد هنا بعد." },
  "panels.notice.missing": {
    en: { one: "LLM_PROVIDER is “{provider}” and {names} is not set.",
      other: "LLM_PROVIDER is “{provider}” and {names} are not set." },
    ar: { one: "قيمة LLM_PROVIDER هي «{provider}»، ولم يُضبط {names}.",
      other: "قيمة LLM_PROVIDER هي «{provider}»، ولم تُضبط {names}." },
  },
  "panels.notice.fix": {
    en: "Set {names} in the service’s {file} (or choose another provider with {variable}), then restart the service.",
    ar: "اضبط {names} في ملف {file} الخاص بالخدمة (أو اختر مزوّدًا آخر عبر {variable})، ثم أعد تشغيل الخدمة.",
  },
  "panels.list.and": { en: " and ", ar: " و" },
  "panels.list.comma": { en: ", ", ar: "، " },
  "panels.typing.agent": { en: "{name} is working", ar: "{name} يعمل الآن" },
  "panels.typing.assistant": { en: "The assistant is replying", ar: "المساعد يكتب ردًّا" },
  "panels.recent.agent": { en: "AI calendar agent", ar: "مساعد التقويم الذكي" },
  "panels.unread": {
    en: { one: "{count} unread", other: "{count} unread" },
    ar: { zero: "{count} رسالة غير مقروءة", one: "رسالة واحدة غير مقروءة", two: "رسالتان غير مقروءتين",
      few: "{count} رسائل غير مقروءة", many: "{count} رسالة غير مقروءة", other: "{count} رسالة غير مقروءة" },
  },
});

const $ = (id) => document.getElementById(id);

/** @param {CustomerView} contact */
export function renderHeader(contact) {
  const agent = Boolean(contact.is_system_agent);
  const phone = leftToRight(contact.display || `+${contact.wa_id}`);
  $("conversation-avatar").className = `avatar avatar-lg${agent ? " avatar-agent" : ""}`;
  $("conversation-avatar").replaceChildren(agent ? icon("spark") : initials(contact.name, contact.wa_id));
  $("conversation-title").textContent = contactLabel(contact);
  $("conversation-title").dir = contact.name ? "auto" : "ltr"; // a number alone reads left to right
  const optedOut = contact.notices_opt_out ? ` · ${t("panels.sub.optedOut")}` : "";
  $("conversation-sub").replaceChildren(phone, " · ", agent ? t("panels.sub.agent") : `${t("panels.sub.whatsapp")}${optedOut}`);
  $("conversation-kind").textContent = t(agent ? "panels.kind.agent" : "panels.kind.customer");
  $("conversation-kind").className = `chip ${agent ? "chip-agent" : "chip-muted"}`;
}

/** Says plainly that the agent has no model and which variables to set; false when there is nothing to say. */
/** @param {CustomerView} contact @param {AgentStatus} status */
export function renderAgentNotice(contact, status) {
  const blocked = Boolean(contact?.is_system_agent && status && !status.configured);
  const notice = $("agent-notice");
  notice.hidden = !blocked;
  if (!blocked) return false;
  const missing = t("panels.notice.missing", { count: status.missing.length, provider: status.provider });
  notice.replaceChildren(icon("alert"),
    h("div", {},
      h("strong", {}, t("panels.notice.title")),
      h("p", {}, fill(missing, { names: codeList(status.missing) })),
      h("p", {}, fill(t("panels.notice.fix"),
        { names: codeList(status.missing), file: h("code", {}, ".env"), variable: h("code", {}, "LLM_PROVIDER") }))));
  return true;
}

function codeList(names) {
  const joiner = (index) => (index === names.length - 1 ? t("panels.list.and") : t("panels.list.comma"));
  return names.flatMap((name, index) => [index ? joiner(index) : "", h("code", {}, name)]);
}

/** @param {CustomerView} contact */
export function renderTyping(contact, typing) {
  $("typing").hidden = !typing;
  $("typing-text").textContent = contact?.is_system_agent
    ? t("panels.typing.agent", { name: contact.name }) : t("panels.typing.assistant");
}

/** The latest conversations (the system agent first) as buttons, with unread counts. */
export function renderRecent(contacts, { selected, unread, open }) {
  $("recent-list").replaceChildren(...contacts.map((/** @type {CustomerView} */ contact) => {
    const agent = Boolean(contact.is_system_agent);
    const count = unread(contact.wa_id);
    return h("li", {},
      h("button", { type: "button", class: "recent-item", "aria-current": selected === contact.wa_id ? "true" : false,
        dataset: { waId: contact.wa_id }, onclick: () => open(contact) },
        h("span", { class: `avatar${agent ? " avatar-agent" : ""}`, "aria-hidden": "true" },
          agent ? icon("spark") : initials(contact.name, contact.wa_id)),
        h("span", { class: "option-text" },
          h("span", { class: "option-name", dir: contact.name ? "auto" : "ltr" }, contactLabel(contact)),
          h("span", { class: "option-sub" },
            agent ? t("panels.recent.agent") : leftToRight(contact.display || `+${contact.wa_id}`))),
        count ? h("span", { class: "badge", "aria-label": t("panels.unread", { count }) }, number(count)) : null));
  }));
}

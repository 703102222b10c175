// The parts of the page that describe the chosen contact: the header, the agent notice, the recent list.

import { contactLabel } from "./combobox.js";
import { h, icon, initials } from "./dom.js";

const $ = (id) => document.getElementById(id);

/** @param {CustomerView} contact */
export function renderHeader(contact) {
  const agent = Boolean(contact.is_system_agent);
  const number = contact.display || `+${contact.wa_id}`;
  $("conversation-avatar").className = `avatar avatar-lg${agent ? " avatar-agent" : ""}`;
  $("conversation-avatar").replaceChildren(agent ? icon("spark") : initials(contact.name, contact.wa_id));
  $("conversation-title").textContent = contactLabel(contact);
  const optedOut = contact.notices_opt_out ? " · opted out of notices" : "";
  $("conversation-sub").textContent = agent ? `${number} · internal: messages never go to WhatsApp`
    : `${number} · WhatsApp${optedOut}`;
  $("conversation-kind").textContent = agent ? "AI agent" : "Customer";
  $("conversation-kind").className = `chip ${agent ? "chip-agent" : "chip-muted"}`;
}

/** Says plainly that the agent has no model and which variables to set; false when there is nothing to say. */
/** @param {CustomerView} contact @param {AgentStatus} status */
export function renderAgentNotice(contact, status) {
  const blocked = Boolean(contact?.is_system_agent && status && !status.configured);
  const notice = $("agent-notice");
  notice.hidden = !blocked;
  if (!blocked) return false;
  const verb = status.missing.length === 1 ? " is not set." : " are not set.";
  notice.replaceChildren(icon("alert"),
    h("div", {},
      h("strong", {}, "The AI agent is not configured: nothing can answer here yet."),
      h("p", {}, `LLM_PROVIDER is “${status.provider}” and `, ...codeList(status.missing), verb),
      h("p", {}, "Set ", ...codeList(status.missing), " in the service’s ", h("code", {}, ".env"),
        " (or choose another provider with ", h("code", {}, "LLM_PROVIDER"), "), then restart the service.")));
  return true;
}

function codeList(names) {
  return names.flatMap((name, index) => [index ? (index === names.length - 1 ? " and " : ", ") : "", h("code", {}, name)]);
}

/** @param {CustomerView} contact */
export function renderTyping(contact, typing) {
  $("typing").hidden = !typing;
  $("typing-text").textContent = contact?.is_system_agent ? `${contact.name} is working` : "The assistant is replying";
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
          h("span", { class: "option-name", dir: "auto" }, contactLabel(contact)),
          h("span", { class: "option-sub" }, agent ? "AI calendar agent" : contact.display || `+${contact.wa_id}`)),
        count ? h("span", { class: "badge", "aria-label": `${count} unread` }, String(count)) : null));
  }));
}

// The conversation picker: an ARIA combobox over the contacts, filtered by the server's fuzzy search.

import { debounce, fill, h, icon, initials, leftToRight } from "./dom.js";
import { define, number, t } from "./i18n.js";

define({
  "combobox.noMatch": { en: "No contact matches “{query}”.", ar: "لا توجد جهة اتصال تطابق «{query}»." },
  "combobox.noContacts": { en: "No contacts yet.", ar: "لا توجد جهات اتصال بعد." },
  "combobox.matches": {
    en: { one: "{count} match", other: "{count} matches" },
    ar: { zero: "لا نتائج", one: "نتيجة واحدة", two: "نتيجتان", few: "{count} نتائج", many: "{count} نتيجة",
      other: "{count} نتيجة" },
  },
  "combobox.conversations": {
    en: { one: "{count} conversation", other: "{count} conversations" },
    ar: { zero: "لا محادثات", one: "محادثة واحدة", two: "محادثتان", few: "{count} محادثات", many: "{count} محادثة",
      other: "{count} محادثة" },
  },
  "combobox.agent": { en: "AI calendar agent · internal", ar: "مساعد التقويم الذكي · داخلي" },
  "combobox.favourite": { en: "Favourite", ar: "مفضّل" },
  "combobox.blocked": { en: "Blocked", ar: "محظور" },
  "combobox.unread": {
    en: { one: "{count} unread", other: "{count} unread" },
    ar: { zero: "{count} رسالة غير مقروءة", one: "رسالة واحدة غير مقروءة", two: "رسالتان غير مقروءتين",
      few: "{count} رسائل غير مقروءة", many: "{count} رسالة غير مقروءة", other: "{count} رسالة غير مقروءة" },
  },
});

const SEARCH_DELAY_MS = 150;

/** A contact's label: its name, else its number. */
/** @param {CustomerView} contact */
export function contactLabel(contact) {
  return contact.name || contact.display || `+${contact.wa_id}`;
}

export class ContactCombobox {
  /**
   * input/listbox: the elements; loadAll(): every contact (system agent first); search(q): hits;
   * onSelect(contact): a conversation was chosen; unread(wa_id): messages waiting in it.
   */
  constructor({ input, listbox, status, loadAll, search, onSelect, unread }) {
    Object.assign(this, { input, listbox, status, loadAll, search, onSelect, unread });
    this.options = [];
    this.active = -1;
    this.selected = null;
    this.query = "";
    this.generation = 0;
    this.systemAgent = null;
    this.filter = debounce(() => this.refresh(), SEARCH_DELAY_MS);
    input.addEventListener("input", () => this.typed());
    input.addEventListener("keydown", (event) => this.key(event));
    input.addEventListener("focus", () => input.select());
    input.addEventListener("click", () => this.open());
    input.addEventListener("blur", () => setTimeout(() => this.blurred(), 120));
    listbox.addEventListener("mousedown", (event) => event.preventDefault());
  }

  typed() {
    this.query = this.input.value.trim();
    this.generation += 1; // answers to earlier queries are now stale
    this.listbox.setAttribute("aria-busy", "true");
    this.filter();
    if (this.listbox.hidden) this.show();
  }

  async open() {
    if (this.listbox.hidden) {
      this.query = this.selected && this.input.value === contactLabel(this.selected) ? "" : this.input.value.trim();
      await this.refresh();
      this.show();
    }
  }

  blurred() {
    if (document.activeElement === this.input) return;
    this.close();
    if (this.selected) this.input.value = contactLabel(this.selected);
  }

  async refresh() {
    const generation = ++this.generation;
    const query = this.query;
    let contacts;
    try {
      contacts = query ? await this.matching(query) : await this.loadAll();
    } catch (error) {
      contacts = [];
      this.status.textContent = error.message;
    }
    if (generation !== this.generation) return; // a newer query is on its way
    this.render(contacts, query);
  }

  /** The server's fuzzy hits, the system agent first when its name or number matches too. */
  async matching(query) {
    const hits = await this.search(query);
    const /** @type {SystemAgentContact} */ agent = this.systemAgent;
    const folded = query.toLowerCase();
    const digits = query.replace(/\D/g, "");
    const agentMatches = agent && (agent.name.toLowerCase().includes(folded) || (digits && agent.wa_id.includes(digits)));
    const customers = hits.filter((/** @type {CustomerHit} */ hit) => !agent || hit.wa_id !== agent.wa_id);
    return agentMatches ? [{ ...agent, is_system_agent: true }, ...customers] : customers;
  }

  render(contacts, query) {
    this.listbox.removeAttribute("aria-busy");
    this.options = contacts;
    this.active = contacts.length ? 0 : -1;
    this.listbox.replaceChildren(...contacts.map((contact, index) => this.option(contact, index)));
    if (!contacts.length) {
      this.listbox.append(h("li", { class: "option-empty", role: "presentation" },
        query ? fill(t("combobox.noMatch"), { query: h("bdi", {}, query) }) : t("combobox.noContacts")));
    }
    const count = contacts.length;
    this.status.textContent = t(query ? "combobox.matches" : "combobox.conversations", { count });
    this.highlight();
  }

  /** @param {CustomerView} contact */
  option(contact, index) {
    const agent = Boolean(contact.is_system_agent);
    const unread = this.unread(contact.wa_id);
    const selected = this.selected && this.selected.wa_id === contact.wa_id;
    return h("li", {
      id: `contact-option-${index}`, role: "option", class: `option${agent ? " option-agent" : ""}`,
      "aria-selected": selected ? "true" : "false", dataset: { waId: contact.wa_id },
      onclick: () => this.choose(contact),
    },
      h("span", { class: `avatar${agent ? " avatar-agent" : ""}`, "aria-hidden": "true" },
        agent ? icon("spark") : initials(contact.name, contact.wa_id)),
      h("span", { class: "option-text" },
        h("span", { class: "option-name", dir: contact.name ? "auto" : "ltr" }, contactLabel(contact)),
        h("span", { class: "option-sub" }, agent ? t("combobox.agent") : leftToRight(contact.display || `+${contact.wa_id}`))),
      contact.is_favorite && !agent ? icon("star", t("combobox.favourite")) : null,
      contact.is_blocked ? h("span", { class: "chip chip-muted" }, t("combobox.blocked")) : null,
      unread ? h("span", { class: "badge", "aria-label": t("combobox.unread", { count: unread }) }, number(unread)) : null,
    );
  }

  key(event) {
    const open = !this.listbox.hidden;
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: 5, PageUp: -5 };
    if (event.key in moves) {
      event.preventDefault();
      if (!open) return void this.open();
      this.move(moves[event.key]);
    } else if (open && (event.key === "Home" || event.key === "End") && event.ctrlKey) {
      event.preventDefault();
      this.active = event.key === "Home" ? 0 : this.options.length - 1;
      this.highlight();
    } else if (event.key === "Enter" && open && this.active >= 0) {
      event.preventDefault();
      this.choose(this.options[this.active]);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      this.close();
      if (this.selected) this.input.value = contactLabel(this.selected);
    }
  }

  move(step) {
    if (!this.options.length) return;
    this.active = Math.max(0, Math.min(this.options.length - 1, this.active + step));
    this.highlight();
  }

  highlight() {
    const items = this.listbox.querySelectorAll('[role="option"]');
    items.forEach((item, index) => item.classList.toggle("is-active", index === this.active));
    const current = items[this.active];
    if (current) {
      this.input.setAttribute("aria-activedescendant", current.id);
      current.scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  }

  /** @param {CustomerView} contact */
  choose(contact) {
    this.close();
    this.select(contact);
    this.onSelect(contact);
  }

  /** Show `contact` as the current conversation (without telling onSelect). */
  select(contact) {
    this.selected = contact;
    this.input.value = contactLabel(contact);
    this.query = "";
  }

  show() {
    this.listbox.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  }

  close() {
    this.listbox.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }
}

// The conversation log: customer, operator, assistant and tool rows, confirmation cards (confirmcard.js), inline
// errors.

import { confirmationCard, setCardState } from "./confirmcard.js";
import { h, icon, prettyJson, shortTime } from "./dom.js";
import { define, t } from "./i18n.js";

define({
  "conversation.role.user": { en: "Customer", ar: "العميل" },
  "conversation.role.secretary": { en: "Operator", ar: "موظف الاستقبال" },
  "conversation.role.assistant": { en: "Assistant", ar: "المساعد" },
  "conversation.role.tool": { en: "Tool call", ar: "استدعاء أداة" },
  "conversation.role.secretaryVia": { en: "{who} · {source}", ar: "{who} · {source}" },
  "conversation.delivery.pending": { en: "Sending…", ar: "جارٍ الإرسال…" },
  "conversation.delivery.sent": { en: "Sent", ar: "أُرسلت" },
  "conversation.delivery.delivered": { en: "Delivered", ar: "وصلت" },
  "conversation.delivery.read": { en: "Read", ar: "قُرئت" },
  "conversation.delivery.failed": { en: "Not delivered", ar: "لم تصل" },
  "conversation.answers": {
    en: { one: "Answers {count} message", other: "Answers {count} messages" },
    ar: { zero: "ردٌّ على {count} رسالة", one: "ردٌّ على رسالة واحدة", two: "ردٌّ على رسالتين",
      few: "ردٌّ على {count} رسائل", many: "ردٌّ على {count} رسالة", other: "ردٌّ على {count} رسالة" },
  },
  "conversation.quote": { en: "“{text}”", ar: "«{text}»" },
  "conversation.tool.ok": { en: "ok", ar: "تم" },
  "conversation.tool.error": { en: "error", ar: "خطأ" },
  "conversation.tool.arguments": { en: "Arguments", ar: "المُدخلات" },
  "conversation.tool.result": { en: "Result", ar: "النتيجة" },
  "conversation.tool.failure": { en: "Error", ar: "الخطأ" },
  "conversation.outcome.failed": { en: "{count} failed", ar: "لم تنجح: {count}" },
  "conversation.outcome.skipped": { en: "{count} skipped", ar: "تم تخطيها: {count}" },
  "conversation.list.separator": { en: ", ", ar: "، " },
});

const ROLES = new Set(["user", "secretary", "assistant", "tool"]);
const DELIVERY = new Set(["pending", "sent", "delivered", "read", "failed"]);
const NEAR_BOTTOM_PX = 80;

export class ConversationView {
  /** root: the log element; onAnswer(confirmationId, accept): the operator answered a confirmation card. */
  constructor(root, { onAnswer }) {
    this.root = root;
    this.onAnswer = onAnswer;
    this.rows = new Map();
    this.contact = null;
  }

  /** Empty the log for `contact` (the system agent's rows are labelled with its name). */
  reset(contact, agentName) {
    this.contact = contact;
    this.agentName = agentName;
    this.rows.clear();
    this.root.replaceChildren();
  }

  empty(text) {
    this.root.append(h("p", { class: "log-empty", dataset: { transient: "empty" } }, text));
  }

  /** Add stored messages (any order); a message already shown is replaced by its newer state. */
  show(messages, { scroll = "auto" } = {}) {
    const stick = scroll === "bottom" || this.nearBottom();
    this.root.querySelector('[data-transient="empty"]')?.remove();
    for (const message of messages) this.place(message);
    if (stick) this.scrollToBottom();
  }

  has(id) {
    return this.rows.has(id);
  }

  /** @param {MessageView} message */
  place(message) {
    if (message.meta && message.meta.kind === "confirmation") {
      const shownFromEvent = this.card(message.meta.confirmation_id);
      if (shownFromEvent && !shownFromEvent.dataset.messageId) shownFromEvent.remove();
    }
    const row = this.row(message);
    const existing = this.rows.get(message.id);
    if (existing) {
      existing.replaceWith(keepOpen(existing, row));
    } else {
      this.root.insertBefore(row, this.following(message.id));
    }
    this.rows.set(message.id, row);
  }

  /** The first stored row after `id`, or the first transient row (errors stay under the messages they follow). */
  following(id) {
    let best = null;
    for (const [otherId, row] of this.rows) {
      if (otherId > id && (!best || otherId < Number(best.dataset.messageId))) best = row;
    }
    return best;
  }

  /** @param {MessageView} message */
  row(message) {
    if (message.meta && message.meta.kind === "confirmation") return this.confirmation(message);
    if (message.role === "tool") return toolRow(message);
    return this.bubble(message);
  }

  /** @param {MessageView} message */
  bubble(message) {
    const role = ROLES.has(message.role) ? message.role : "assistant";
    const status = message.role === "user" ? null : deliveryChip(message.delivery_status);
    return h("article", { class: `msg msg-${role}`, dataset: { role, messageId: message.id } },
      h("header", { class: "msg-meta" },
        h("span", { class: "msg-author", dir: "auto" }, this.author(message)),
        h("time", { datetime: message.timestamp || "" }, shortTime(message.timestamp)),
        this.answersChip(message),
        status),
      h("p", { class: "msg-text", dir: "auto" }, message.text));
  }

  /** A reply names the messages it answered (a burst, or lines written while the agent worked): a click shows
   * the first of them. */
  /** @param {MessageView} message */
  answersChip(message) {
    const answered = (message.meta && message.meta.answers) || [];
    if (!answered.length) return null;
    const quoted = answered.map((id) => this.rows.get(id)?.querySelector(".msg-text")?.textContent)
      .filter(Boolean).map((text) => t("conversation.quote", { text: text.length > 60 ? `${text.slice(0, 60)}…` : text }));
    const label = t("conversation.answers", { count: answered.length });
    return h("button", {
      type: "button", class: "msg-answers", title: quoted.join("\n") || label,
      dataset: { answers: answered.join(",") },
      onclick: () => this.rows.get(answered[0])?.scrollIntoView({ block: "center", behavior: "smooth" }),
    }, `↩ ${label}`);
  }

  /** @param {MessageView} message */
  author(message) {
    const agent = this.contact && this.contact.is_system_agent;
    if (message.role === "assistant") return agent ? this.agentName : t("conversation.role.assistant");
    if (message.role === "user") return this.contact?.name || t("conversation.role.user");
    const source = message.meta && message.meta.call_source;
    // A staff member's message names them (with accounts); without accounts every message is "Operator".
    const who = message.meta?.author?.username || t("conversation.role.secretary");
    return source === "console" || !source ? who : t("conversation.role.secretaryVia", { who, source });
  }

  /** A confirmation card for a stored confirmation message or a `confirmation_request` event. */
  /** @param {MessageView} message */
  confirmation(message) {
    const meta = message.meta || {};
    return confirmationCard({
      id: meta.confirmation_id, text: message.text, preview: meta.preview, state: meta.state || "pending",
      messageId: message.id, timestamp: message.timestamp, onAnswer: this.onAnswer,
    });
  }

  /** Show a confirmation that arrived as an event, unless a stored message already shows it. */
  /** @param {ConfirmationRequestEvent} request */
  showRequest(request) {
    if (this.card(request.confirmation_id)) return;
    const stick = this.nearBottom();
    this.root.append(confirmationCard({ ...request, id: request.confirmation_id, text: request.message,
      state: "pending", onAnswer: this.onAnswer }));
    if (stick) this.scrollToBottom();
  }

  card(confirmationId) {
    return confirmationId ? this.root.querySelector(`[data-confirmation-id="${CSS.escape(confirmationId)}"]`) : null;
  }

  /** Mark a card answered: accepted, cancelled, expired (or in flight: "sending"). */
  resolve(confirmationId, state, detail) {
    const card = this.card(confirmationId);
    if (card) setCardState(card, state, detail);
  }

  /** An inline, announced error under the newest message; the operator's message stays where it was. */
  error(text) {
    const stick = this.nearBottom();
    this.root.append(h("div", { class: "log-error", role: "alert", dataset: { transient: "error" } },
      icon("alert"), h("span", { dir: "auto" }, text)));
    if (stick) this.scrollToBottom();
  }

  nearBottom() {
    const { scrollTop, scrollHeight, clientHeight } = this.root;
    return scrollHeight - scrollTop - clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.root.scrollTop = this.root.scrollHeight;
  }
}

function deliveryChip(status) {
  if (!status) return null;
  return h("span", { class: `delivery delivery-${status}`, dataset: { delivery: status } },
    DELIVERY.has(status) ? t(`conversation.delivery.${status}`) : status);
}

/** A tool call, collapsed: the tool and its outcome; open it for the arguments and the result. */
/** @param {MessageView} message */
export function toolRow(message) {
  const meta = message.meta || {};
  const name = meta.tool || "tool";
  const failed = Boolean(meta.is_error);
  return h("details", { class: `tool${failed ? " tool-error" : ""}`, dataset: { role: "tool", messageId: message.id, tool: name } },
    h("summary", {},
      icon("wrench"),
      h("span", { class: "tool-name", dir: "ltr" }, name),
      h("span", { class: `chip ${failed ? "chip-danger" : "chip-ok"}` }, t(failed ? "conversation.tool.error" : "conversation.tool.ok")),
      outcomeChip(meta.outcome),
      h("span", { class: "tool-preview", dir: "ltr" }, argumentPreview(meta.arguments)),
      h("time", { datetime: message.timestamp || "" }, shortTime(message.timestamp))),
    h("div", { class: "tool-body" },
      h("h4", {}, t("conversation.tool.arguments")),
      h("pre", { class: "tool-arguments", dir: "ltr", tabindex: "0" }, prettyJson(meta.arguments ?? {})),
      h("h4", {}, t(failed ? "conversation.tool.failure" : "conversation.tool.result")),
      h("pre", { class: "tool-result", dir: "ltr", tabindex: "0" }, isolatedCells(prettyJson(meta.result ?? message.text)))));
}

/** A result's table lines with each "|" cell isolated, so an Arabic name never reorders its neighbours. */
function isolatedCells(text) {
  return text.split("\n").flatMap((line, index) => [
    index ? "\n" : "",
    ...line.split("|").flatMap((cell, at) => (at ? ["|", h("bdi", {}, cell)] : [h("bdi", {}, cell)])),
  ]);
}

/** A batch's items that did not apply, as a chip the operator sees before opening the row. */
function outcomeChip(outcome) {
  const missed = outcome ? (outcome.failed || 0) + (outcome.skipped || 0) : 0;
  if (!missed) return null;
  const parts = [outcome.failed ? t("conversation.outcome.failed", { count: outcome.failed }) : "",
    outcome.skipped ? t("conversation.outcome.skipped", { count: outcome.skipped }) : ""];
  return h("span", { class: "chip chip-warn tool-outcome" }, parts.filter(Boolean).join(t("conversation.list.separator")));
}

function argumentPreview(args) {
  if (!args || typeof args !== "object") return "";
  const text = JSON.stringify(args);
  return text.length > 90 ? `${text.slice(0, 89)}…` : text;
}

/** A tool row re-rendered keeps the operator's expansion. */
function keepOpen(before, after) {
  if (before.tagName === "DETAILS" && after.tagName === "DETAILS") after.open = before.open;
  return after;
}

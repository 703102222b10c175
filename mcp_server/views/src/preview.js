// The batch preview: what a destructive batch would do, with the person's Confirm or Decline. A result that carries
// the confirmation (`_meta["clinic.calendar/confirmation"]`: token, tool, arguments, question) shows the console's
// confirmation card; Confirm calls the same tool with the token (exactly the previewed change is applied, or a fresh
// preview comes back when the calendar changed), Decline calls nothing and tells the model. Any other result (applied,
// dry run, error) shows what it says.

import { confirmationCard, setCardState } from "../../../chat_bridge/static/confirmcard.js";
import { h } from "../../../chat_bridge/static/dom.js";
import { define, t } from "../../../chat_bridge/static/i18n.js";
import { answered, failure, resultText } from "./outcome.js";

define({
  "views.preview.waiting": { en: "Waiting for the batch's answer…", ar: "في انتظار نتيجة العملية…" },
  "views.preview.outcome": { en: "Outcome", ar: "النتيجة" },
  "views.preview.applying": { en: "Applying the change…", ar: "جارٍ تنفيذ التغيير…" },
  "views.preview.applied": { en: "Done: the tool answered below.", ar: "تم: جواب الأداة أدناه." },
  "views.preview.decline": { en: "Decline", ar: "رفض" },
  "views.preview.declined": { en: "Declined: nothing was written.", ar: "رُفض: لم يُكتب شيء." },
});

export const CONFIRMATION_META_KEY = "clinic.calendar/confirmation";

/** What the model is told when the person declines (in English: the model's working language here). */
export function declinedText(tool) {
  return `The person declined ${tool} in the preview; nothing was written.`;
}

/** What the model is told when the person confirmed: the tool's own answer, as it would have read it. */
export function confirmedText(tool, answer) {
  return `The person confirmed ${tool} in the preview, and it was called with the confirmation token; it answered:\n${answer}`;
}

export class BatchPreview {
  constructor(root, app) {
    Object.assign(this, { root, app, last: null, card: null });
    this.waiting();
  }

  input() {} // the arguments come back with the result's confirmation, bound to its token

  connected() {}

  result(result) {
    this.last = result;
    this.show(result);
  }

  failed(error) {
    this.error(error);
  }

  /** Again in the page's language, unless the person already answered (their answer's state stays as it is). */
  redraw() {
    if (!this.last) this.waiting();
    else if (["pending", "outcome", "error"].includes(this.root.dataset.viewState)) this.show(this.last);
  }

  waiting() {
    this.state("waiting");
    this.root.replaceChildren(h("p", { class: "hint view-waiting" }, t("views.preview.waiting")));
  }

  /** A result: the card to decide on when it asks, else its outcome. */
  show(result) {
    const asked = result?._meta?.[CONFIRMATION_META_KEY];
    if (result?.isError) return this.error(new Error(resultText(result)));
    if (!asked) return this.outcome(result);
    this.card = confirmationCard({
      id: "preview", text: asked.question, preview: result.structuredContent?.confirmation?.preview, state: "pending",
      decline: t("views.preview.decline"), onAnswer: (_, yes) => (yes ? this.confirm(asked) : this.decline(asked)),
    });
    this.state("pending");
    this.root.replaceChildren(this.card);
  }

  /** The same tool, its same arguments, and the token of exactly the change the person saw. */
  async confirm(asked) {
    const card = this.card;
    setCardState(card, "sending", t("views.preview.applying"));
    this.state("sending");
    try {
      const result = answered(await this.app.callServerTool({
        name: asked.tool, arguments: { ...asked.arguments, confirmation_token: asked.token } }));
      this.last = result;
      if (result._meta?.[CONFIRMATION_META_KEY]) return this.show(result); // the calendar changed: a fresh preview
      setCardState(card, "accepted", t("views.preview.applied"));
      this.root.append(outcomeBlock(result));
      this.state("applied");
    } catch (error) {
      setCardState(card, "failed", failure(error));
      return this.error(error, card);
    }
    await this.tell(confirmedText(asked.tool, resultText(this.last)));
  }

  /** Nothing is called: the model is told, so that it does not apply the batch some other way. */
  async decline(asked) {
    setCardState(this.card, "declined");
    this.root.append(outcomeBlock(null, "declined", t("views.preview.declined")));
    this.state("declined");
    await this.tell(declinedText(asked.tool));
  }

  /** What the person decided, for the model's next turn (the host adds it to the model's context). */
  async tell(text) {
    try {
      await this.app.updateModelContext({ content: [{ type: "text", text }] });
    } catch (error) {
      this.root.append(errorLine(error));
    }
  }

  outcome(result) {
    this.state("outcome");
    this.root.replaceChildren(outcomeBlock(result));
  }

  /** An error, shown (never swallowed); after `kept` (the card it happened on), if any. */
  error(error, kept = null) {
    this.state("error");
    this.root.replaceChildren(...[kept, errorLine(error)].filter(Boolean));
  }

  state(name) {
    this.root.dataset.viewState = name;
  }
}

/** A result's outcome: its status (`data-outcome`: applied, dry_run, replayed, …, or declined when the person said
 * no) and every line of its text. */
function outcomeBlock(result, status = result?.structuredContent?.status, text = resultText(result)) {
  return h("section", { class: "view-outcome", "aria-labelledby": "outcome-title", dataset: { outcome: status || "" } },
    h("h2", { id: "outcome-title" }, t("views.preview.outcome")),
    h("p", { class: "view-outcome-text", dir: "auto" }, text));
}

function errorLine(error) {
  return h("p", { class: "form-error view-error", role: "alert", "data-error": "" }, failure(error));
}

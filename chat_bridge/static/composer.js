// The send box: Enter sends, Shift+Enter adds a line; lines written in a burst are sent in order, and a line the
// server did not take comes back into the box.

import { ApiError } from "./api.js";

const MAX_HEIGHT_PX = 200;

export class Composer {
  /** send(text): the stored message; a failure's sentence is shown under the box. */
  constructor({ form, input, button, error, send, stored }) {
    Object.assign(this, { form, input, button, error, sendText: send, stored, sending: Promise.resolve() });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    input.addEventListener("input", () => this.autosize());
  }

  /** On or off (off: the agent has no model), with the placeholder saying why. */
  enable(enabled, placeholder) {
    this.input.disabled = !enabled;
    this.button.disabled = !enabled;
    this.input.placeholder = placeholder;
    this.error.textContent = "";
  }

  /** Send what the box holds. A burst is kept: each line leaves the box at once and is sent after the
   * ones before it, in order; a line the server did not take comes back into the box. */
  send() {
    const text = this.input.value.trim();
    if (!text || this.input.disabled) return this.sending;
    this.input.value = "";
    this.autosize();
    this.error.textContent = "";
    this.sending = this.sending.then(() => this.deliver(text));
    return this.sending;
  }

  async deliver(text) {
    try {
      this.stored(await this.sendText(text));
    } catch (error) {
      this.failed(error, text);
    }
  }

  /** A message WhatsApp refused is stored as failed: shown as such, so the text is not sent twice. */
  failed(error, text) {
    const kept = error instanceof ApiError && error.body && error.body.message;
    if (kept && typeof kept === "object") this.stored(kept);
    else this.input.value = this.input.value ? `${text}\n${this.input.value}` : text;
    this.autosize();
    this.error.textContent = error.message;
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, MAX_HEIGHT_PX)}px`;
  }
}

// The send box: Enter sends, Shift+Enter adds a line; the text stays until the server has stored it.

import { ApiError } from "./api.js";

const MAX_HEIGHT_PX = 200;

export class Composer {
  /** send(text): the stored message; a failure's sentence is shown under the box. */
  constructor({ form, input, button, error, send, stored }) {
    Object.assign(this, { form, input, button, error, sendText: send, stored });
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

  async send() {
    const text = this.input.value.trim();
    if (!text || this.button.disabled) return;
    this.button.disabled = true;
    this.error.textContent = "";
    try {
      this.stored(await this.sendText(text));
      this.input.value = "";
    } catch (error) {
      this.failed(error);
    } finally {
      this.button.disabled = this.input.disabled;
      this.autosize();
      this.input.focus();
    }
  }

  /** A message WhatsApp refused is stored as failed: shown as such, so the text is not sent twice. */
  failed(error) {
    const kept = error instanceof ApiError && error.body && error.body.message;
    if (kept && typeof kept === "object") {
      this.input.value = "";
      this.stored(kept);
    }
    this.error.textContent = error.message;
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, MAX_HEIGHT_PX)}px`;
  }
}

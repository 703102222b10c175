// The operator token prompt: a modal that checks the token against the API and keeps it for the tab.

import { api, operatorToken } from "./api.js";
import { define, t } from "./i18n.js";

define({
  "signin.empty": { en: "Enter the operator token.", ar: "أدخل رمز دخول موظف الاستقبال." },
  "signin.refused": { en: "That token was not accepted. Check it and try again.",
    ar: "لم يُقبَل هذا الرمز. تحقّق منه وحاول مرة أخرى." },
});

export class SignIn {
  constructor(dialog) {
    this.dialog = dialog;
    this.form = dialog.querySelector("form");
    this.input = dialog.querySelector('input[type="password"]');
    this.error = dialog.querySelector(".form-error");
    this.waiting = [];
    dialog.addEventListener("cancel", (event) => event.preventDefault()); // nothing works without a token
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  get asking() {
    return this.dialog.open;
  }

  /** Ask for the token; resolves once the server accepted one and it is stored. */
  ask(reason = "") {
    this.error.textContent = reason;
    if (!this.dialog.open) this.dialog.showModal();
    this.input.focus();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async submit() {
    const token = this.input.value.trim();
    if (!token) return void (this.error.textContent = t("signin.empty"));
    try {
      await api("/customers/names", { token });
    } catch (error) {
      this.error.textContent = error.status === 401 ? t("signin.refused") : error.message;
      return;
    }
    operatorToken.set(token);
    this.input.value = "";
    this.dialog.close();
    this.waiting.splice(0).forEach((resolve) => resolve());
  }
}

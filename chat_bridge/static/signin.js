// Signing in: a staff member's username and password where the clinic has accounts (the server sets an HttpOnly
// session cookie), else the operator token, kept for the tab; and who is signed in, shown in the header. The
// signed-in role is put on <body data-role>, where the styles hide the controls a role may not use (the server
// refuses them anyway).

import { api, operatorToken } from "./api.js";
import { define, t } from "./i18n.js";

define({
  "signin.empty": { en: "Enter the operator token.", ar: "أدخل رمز دخول موظف الاستقبال." },
  "signin.refused": { en: "That token was not accepted. Check it and try again.",
    ar: "لم يُقبَل هذا الرمز. تحقّق منه وحاول مرة أخرى." },
  "signin.staff_hint": { en: "Sign in with your staff account.", ar: "سجّل الدخول بحساب الموظف الخاص بك." },
  "signin.username": { en: "Username", ar: "اسم المستخدم" },
  "signin.password": { en: "Password", ar: "كلمة المرور" },
  "signin.missing": { en: "Enter your username and password.", ar: "أدخل اسم المستخدم وكلمة المرور." },
  "signin.wrong": { en: "The username or password is wrong, or the account is disabled.",
    ar: "اسم المستخدم أو كلمة المرور غير صحيحة، أو الحساب معطّل." },
  "signin.throttled": {
    en: { one: "Too many refused sign-ins: try again in {count} minute.", other: "Too many refused sign-ins: try again in {count} minutes." },
    ar: { zero: "محاولات دخول مرفوضة كثيرة: حاول مرة أخرى بعد قليل.", one: "محاولات دخول مرفوضة كثيرة: حاول مرة أخرى بعد دقيقة.",
      two: "محاولات دخول مرفوضة كثيرة: حاول مرة أخرى بعد دقيقتين.", few: "محاولات دخول مرفوضة كثيرة: حاول مرة أخرى بعد {count} دقائق.",
      many: "محاولات دخول مرفوضة كثيرة: حاول مرة أخرى بعد {count} دقيقة.", other: "محاولات دخول مرفوضة كثيرة: حاول مرة أخرى بعد {count} دقيقة." },
  },
  "signin.too_long": { en: "That username or password is too long.", ar: "اسم المستخدم أو كلمة المرور طويلة جدًا." },
  "signin.network": { en: "The service could not be reached. Check the connection and try again.",
    ar: "تعذّر الوصول إلى الخدمة. تحقّق من الاتصال وحاول مرة أخرى." },
  "role.viewer": { en: "Viewer", ar: "مشاهد" },
  "role.operator": { en: "Operator", ar: "موظف استقبال" },
  "role.admin": { en: "Admin", ar: "مدير" },
  "signin.signed_in_as": { en: "Signed in as {name}, {role}", ar: "مسجّل الدخول باسم {name}، {role}" },
});

/** The sentence for a refused sign-in, in the page's language. */
function refusal(error) {
  if (error.status === 429) return t("signin.throttled", { count: Math.max(1, Math.ceil((error.body?.error?.retry_after || 60) / 60)) });
  if (error.code === "sign_in_refused") return t("signin.wrong");
  if (error.code === "invalid_body") return t("signin.too_long");
  if (error.code === "network") return t("signin.network");
  return error.message;
}

export class SignIn {
  /** dialog: the sign-in dialog, holding the token form and the staff form. */
  constructor(dialog) {
    this.dialog = dialog;
    this.accounts = false;
    this.tokenForm = dialog.querySelector("#login-form");
    this.staffForm = dialog.querySelector("#staff-login");
    this.waiting = [];
    dialog.addEventListener("cancel", (event) => event.preventDefault()); // nothing works signed out
    this.tokenForm.addEventListener("submit", (event) => { event.preventDefault(); this.submitToken(); });
    this.staffForm.addEventListener("submit", (event) => { event.preventDefault(); this.submitStaff(); });
  }

  /** Sign in with a staff account (`accounts`) or with the operator token. */
  useAccounts(accounts) {
    this.accounts = accounts;
    this.tokenForm.hidden = accounts;
    this.staffForm.hidden = !accounts;
  }

  get form() {
    return this.accounts ? this.staffForm : this.tokenForm;
  }

  get asking() {
    return this.dialog.open;
  }

  /** Who this browser is signed in as (`GET /session`, a SessionView), or null. */
  async current() {
    try {
      return await api("/session", { silent: true });
    } catch (error) {
      if (error.status === 401) return null;
      throw error;
    }
  }

  /** Ask to sign in; resolves once the server accepted (with the session in the accounts mode, else null). */
  ask(reason = "") {
    this.form.querySelector(".form-error").textContent = reason;
    if (!this.dialog.open) this.dialog.showModal();
    this.form.querySelector("input").focus();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  done(session) {
    this.dialog.close();
    this.waiting.splice(0).forEach((resolve) => resolve(session));
  }

  async submitToken() {
    const input = this.tokenForm.querySelector('input[type="password"]');
    const error = this.tokenForm.querySelector(".form-error");
    const token = input.value.trim();
    if (!token) return void (error.textContent = t("signin.empty"));
    try {
      await api("/customers/names", { token });
    } catch (failure) {
      error.textContent = failure.status === 401 ? t("signin.refused") : failure.message;
      return;
    }
    operatorToken.set(token);
    input.value = "";
    this.done(null);
  }

  async submitStaff() {
    const form = this.staffForm;
    const username = form.querySelector("#login-username").value.trim();
    const password = form.querySelector("#login-password");
    const error = form.querySelector(".form-error");
    if (!username || !password.value) return void (error.textContent = t("signin.missing"));
    let session;
    try {
      session = await api("/session", { method: "POST", body: { username, password: password.value }, silent: true });
    } catch (failure) {
      error.textContent = refusal(failure);
      return;
    }
    password.value = "";
    this.done(session);
  }
}

/** Show who is signed in (the staff mode), and put the role on <body data-role> (everyone else is the one operator,
 * who may do everything). @param {SessionView} session (null when none) */
export function showSession(session, { who, name, role }) {
  const user = session?.mode === "staff" ? session.user : null;
  document.body.dataset.role = user ? user.role : "admin";
  who.hidden = !user;
  if (!user) return;
  name.textContent = user.display_name || user.username;
  role.textContent = t(`role.${user.role}`);
  who.title = t("signin.signed_in_as", { name: user.username, role: t(`role.${user.role}`) });
}

// The admins' audit log: who did or tried what, newest first, refused attempts marked, a page at a time; and the
// staff accounts with their roles. Read only: accounts are managed with `calendar-agent users`.

import { h, leftToRight } from "./dom.js";
import { define, t } from "./i18n.js";

define({
  "audit.open": { en: "Audit log", ar: "سجل التدقيق" },
  "audit.title": { en: "Audit log", ar: "سجل التدقيق" },
  "audit.staff": { en: "Staff", ar: "الموظفون" },
  "audit.disabled": { en: "disabled", ar: "معطّل" },
  "audit.more": { en: "Load more", ar: "تحميل المزيد" },
  "audit.refused_only": { en: "Refused only", ar: "المرفوضة فقط" },
  "audit.empty": { en: "Nothing recorded yet.", ar: "لا شيء مسجّل بعد." },
  "audit.outcome.ok": { en: "Done", ar: "تم" },
  "audit.outcome.refused": { en: "Refused", ar: "مرفوض" },
  "audit.outcome.failed": { en: "Failed", ar: "فشل" },
  "audit.actor.agent": { en: "the agent for {name}", ar: "المساعد نيابة عن {name}" },
  "audit.actor.client": { en: "{name} via {client}", ar: "{name} عبر {client}" },
  "audit.actor.customer": { en: "customer {name}", ar: "العميل {name}" },
  "audit.actor.address": { en: "someone at {name}", ar: "شخص من العنوان {name}" },
  "audit.actor.operator": { en: "the operator", ar: "موظف الاستقبال" },
  "audit.actor.system_agent": { en: "the agent", ar: "المساعد" },
  "audit.actor.system": { en: "the system", ar: "النظام" },
  "audit.actor.command_line": { en: "the command line", ar: "سطر الأوامر" },
  "audit.action.sign_in": { en: "sign-in", ar: "تسجيل دخول" },
  "audit.action.sign_out": { en: "sign-out", ar: "تسجيل خروج" },
  "audit.action.user_add": { en: "account added", ar: "إضافة حساب" },
  "audit.action.user_disable": { en: "account disabled", ar: "تعطيل حساب" },
  "audit.action.user_enable": { en: "account enabled", ar: "تفعيل حساب" },
  "audit.action.user_passwd": { en: "password changed", ar: "تغيير كلمة مرور" },
  "audit.action.user_role": { en: "role changed", ar: "تغيير دور" },
});

const PAGE = 50;
const ACTIONS = new Set(["sign_in", "sign_out", "user_add", "user_disable", "user_enable", "user_passwd", "user_role"]);

/** "operator:amal" as a person reads it: "amal", "the agent for amal", "amal via claude", "the operator"… */
export function actorLabel(actor) {
  const at = actor.indexOf(":");
  const kind = at < 0 ? actor : actor.slice(0, at);
  const name = at < 0 ? "" : actor.slice(at + 1);
  if (kind === "operator" && name) return name;
  if (kind === "mcp") {
    const [person, client = "?"] = name.split("@");
    return t("audit.actor.client", { name: person, client });
  }
  const key = `audit.actor.${kind}`;
  const text = t(key, { name });
  return text === key ? actor : text;
}

export class AuditPanel {
  /** dialog: the panel's <dialog>; `load(query)` reads GET /audit?query, `staff()` reads GET /staff. */
  constructor(dialog, { load, staff }) {
    this.dialog = dialog;
    this.load = load;
    this.staff = staff;
    this.list = dialog.querySelector(".audit-list");
    this.people = dialog.querySelector(".audit-staff-list");
    this.more = dialog.querySelector(".audit-more");
    this.error = dialog.querySelector(".form-error");
    this.refusedOnly = dialog.querySelector(".audit-refused-only input");
    this.before = null;
    dialog.querySelector("[data-act=dismiss]").addEventListener("click", () => dialog.close());
    this.more.addEventListener("click", () => this.page());
    this.refusedOnly.addEventListener("change", () => this.reload());
  }

  async open() {
    if (!this.dialog.open) this.dialog.showModal();
    await Promise.all([this.showStaff(), this.reload()]);
  }

  async showStaff() {
    try {
      const { staff } = await this.staff();
      this.people.replaceChildren(...staff.map((/** @type {StaffView} */ user) => h("li", {
        class: `audit-person${user.disabled ? " audit-person-disabled" : ""}`, dataset: { username: user.username, role: user.role },
      }, h("bdi", {}, user.display_name), " ", leftToRight(`(${user.username})`), " ",
      h("span", { class: "chip" }, t(`role.${user.role}`)), user.disabled ? h("span", { class: "chip chip-muted" }, t("audit.disabled")) : null)));
    } catch (failure) {
      this.error.textContent = failure.message;
    }
  }

  async reload() {
    this.before = null;
    this.list.replaceChildren();
    await this.page();
  }

  /** The next page of lines, after those shown. */
  async page() {
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (this.before) query.set("before", String(this.before));
    if (this.refusedOnly.checked) query.set("outcome", "refused");
    this.error.textContent = "";
    let answer;
    try {
      answer = await this.load(query.toString());
    } catch (failure) {
      this.error.textContent = failure.message;
      return;
    }
    this.list.append(...answer.lines.map((line) => this.line(line)));
    if (!this.list.children.length) this.list.append(h("li", { class: "hint" }, t("audit.empty")));
    this.before = answer.next_before;
    this.more.hidden = !this.before;
  }

  /** @param {AuditLine} line */
  line(line) {
    const outcome = ["ok", "refused", "failed"].includes(line.outcome) ? line.outcome : "failed";
    const action = ACTIONS.has(line.action) ? t(`audit.action.${line.action}`) : line.action;
    return h("li", { class: `audit-line audit-${outcome}`, dataset: { id: line.id, outcome, actor: line.actor } },
      h("time", { class: "hint", datetime: line.at || "" }, leftToRight((line.at || "").replace("T", " ").slice(0, 19))),
      h("span", { class: "audit-actor", dir: "auto" }, actorLabel(line.actor)),
      line.role ? h("span", { class: "chip chip-muted" }, t(`role.${line.role}`)) : null,
      h("span", { class: "audit-action", dir: ACTIONS.has(line.action) ? "auto" : "ltr" }, action),
      line.target ? h("bdi", { class: "audit-target", dir: "ltr" }, line.target) : null,
      h("span", { class: `chip audit-outcome audit-outcome-${outcome}` }, t(`audit.outcome.${outcome}`)),
      line.detail?.status ? h("span", { class: "hint" }, leftToRight(`HTTP ${line.detail.status}`)) : null);
  }
}

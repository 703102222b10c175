// The OAuth consent page: a staff member signs in (the console's own session), then approves or denies what an
// application asks to do with the calendar in their name. What it shows, and the answer's token, were computed by the
// server and embedded in the page (#consent-data); the page only renders them and posts the answer.

import { define, t, translatePage } from "./i18n.js";

define({
  "consent.title": { en: "Authorize an application", ar: "تفويض تطبيق" },
  "consent.username": { en: "Username", ar: "اسم المستخدم" },
  "consent.password": { en: "Password", ar: "كلمة المرور" },
  "consent.sign_in": { en: "Sign in", ar: "تسجيل الدخول" },
  "consent.sign_in_lead": { en: "{client} asks to use the clinic calendar. Sign in to answer.",
    ar: "يطلب {client} استخدام تقويم العيادة. سجّل الدخول للرد." },
  "consent.refused": { en: "The username or password is wrong, or the account is disabled.",
    ar: "اسم المستخدم أو كلمة المرور غير صحيحة، أو الحساب معطّل." },
  "consent.throttled": { en: "Too many refused sign-ins. Try again later.",
    ar: "محاولات دخول مرفوضة كثيرة. حاول لاحقًا." },
  "consent.lead": { en: "{client} asks to use the clinic calendar as {user}.",
    ar: "يطلب {client} استخدام تقويم العيادة باسم {user}." },
  "consent.returns_to": { en: "It will send you back to", ar: "سيعيدك إلى" },
  "consent.asks": { en: "It asks to", ar: "يطلب أن" },
  "consent.scope.calendar.read": { en: "Read the calendar: reservations, free places, customers' names and numbers",
    ar: "يقرأ التقويم: الحجوزات والأماكن المتاحة وأسماء العملاء وأرقامهم" },
  "consent.scope.calendar.write": { en: "Change the calendar: book, move and cancel reservations in your name",
    ar: "يعدّل التقويم: يحجز المواعيد وينقلها ويلغيها باسمك" },
  "consent.viewer": { en: "As a viewer you can grant reading only: changing the calendar needs an operator.",
    ar: "بصفتك مشاهدًا يمكنك منح القراءة فقط: تعديل التقويم يحتاج إلى موظف استقبال." },
  "consent.approve": { en: "Approve", ar: "موافقة" },
  "consent.deny": { en: "Deny", ar: "رفض" },
  "consent.gone": { en: "This request has expired or was already answered. Go back to the application and connect again.",
    ar: "انتهت صلاحية هذا الطلب أو تمّ الرد عليه. ارجع إلى التطبيق واتصل من جديد." },
});

const $ = (id) => document.getElementById(id);
const view = JSON.parse($("consent-data").textContent || "{}");

translatePage();
$(view.step === "consent" ? "consent" : view.step === "sign_in" ? "sign-in" : "gone").hidden = false;
if (view.step === "sign_in") showSignIn();
if (view.step === "consent") showConsent();

function showSignIn() {
  $("sign-in-lead").textContent = t("consent.sign_in_lead", { client: view.client_name });
  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await post("/session", { username: $("username").value, password: $("password").value });
    if (response.ok) return void location.replace(location.href); // this page again, with the new session
    $("sign-in-error").textContent = t(response.status === 429 ? "consent.throttled" : "consent.refused");
  });
  $("username").focus();
}

function showConsent() {
  $("consent-lead").textContent = t("consent.lead", { client: view.client_name, user: view.username });
  $("redirect-host").textContent = view.redirect_host;
  $("redirect-host").title = view.redirect_uri;
  $("scopes").replaceChildren(...view.scopes.map(scopeChoice));
  $("viewer-note").hidden = view.grantable.length === view.scopes.length;
  $("viewer-note").textContent = t("consent.viewer");
  $("approve").disabled = view.grantable.length === 0;
  $("approve").addEventListener("click", () => answer("approve"));
  $("deny").addEventListener("click", () => answer("deny"));
}

/** A checkbox per scope asked: checked when the person may grant it, disabled when they may not. */
function scopeChoice(scope) {
  const box = Object.assign(document.createElement("input"), { type: "checkbox", value: scope, name: "scope" });
  box.checked = view.grantable.includes(scope);
  box.disabled = !box.checked;
  const label = document.createElement("label");
  label.classList.toggle("refused", box.disabled);
  label.append(box, t(`consent.scope.${scope}`));
  return label;
}

async function answer(decision) {
  for (const button of [$("approve"), $("deny")]) button.disabled = true;
  const scopes = [...document.querySelectorAll('input[name="scope"]:checked')].map((box) => box.value);
  const response = await post("/oauth/consent", { request: view.request, decision, scopes, csrf: view.csrf });
  const body = await response.json().catch(() => ({}));
  if (response.ok && body.redirect) return void location.assign(body.redirect);
  $("consent-error").textContent = body.error?.message || response.statusText;
}

function post(path, body) {
  return fetch(path, { method: "POST", credentials: "same-origin", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", Accept: "application/json" } });
}

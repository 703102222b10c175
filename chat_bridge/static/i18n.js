// The console's languages: English and Arabic. The language is `?lang=` when the address gives one (and is then
// remembered), else the one this browser chose before, else the browser's own preference; a view embedded in an MCP
// host switches to the host's language at run time (`useLanguage`). Arabic lays the page out right to left
// (`dir="rtl"` on <html>; the styles use logical properties, so they mirror).
//
// Each module defines its own strings once (`define`), each with its English and Arabic; a string that counts takes
// `{count}` and its forms by Intl.PluralRules category (Arabic has six). The page's static labels carry
// `data-i18n` (text), `data-i18n-placeholder`, `data-i18n-label` (aria-label) or `data-i18n-title` keys.

export const LANGUAGES = { en: "English", ar: "العربية" };
const STORED = "clinic-console.language";
const LOCALES = { en: "en-GB", ar: "ar-SA-u-ca-gregory" };
const HIJRI_MONTHS = {
  en: ["Muharram", "Safar", "Rabi al-Awwal", "Rabi al-Thani", "Jumada al-Ula", "Jumada al-Akhirah", "Rajab", "Shaban",
    "Ramadan", "Shawwal", "Dhu al-Qadah", "Dhu al-Hijjah"],
  ar: ["محرم", "صفر", "ربيع الأول", "ربيع الآخر", "جمادى الأولى", "جمادى الآخرة", "رجب", "شعبان", "رمضان", "شوال",
    "ذو القعدة", "ذو الحجة"],
};

const strings = new Map();

function chosen() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked in LANGUAGES) {
    remember(asked);
    return asked;
  }
  const stored = remembered();
  if (stored in LANGUAGES) return stored;
  return (navigator.language || "").toLowerCase().startsWith("ar") ? "ar" : "en";
}

// A sandboxed frame (an MCP host's view, opaque origin) throws on any use of localStorage: it then remembers nothing.
function remembered() {
  try {
    return localStorage.getItem(STORED);
  } catch {
    return null;
  }
}

function remember(language) {
  try {
    localStorage.setItem(STORED, language);
  } catch {
    // nothing to remember it in
  }
}

/** The page's language: "en" or "ar" (live: `useLanguage` changes it). */
export let lang = null;
export let locale = null;
let plurals = null;
let numbers = null;

/** Write everything in `next` ("en" or "ar") from now on, without a reload: an embedded view follows its host's
 * language. What is already on the page stays as it was drawn; draw it again. */
export function useLanguage(next) {
  if (!(next in LANGUAGES)) return;
  lang = next;
  locale = LOCALES[lang];
  plurals = new Intl.PluralRules(locale);
  numbers = new Intl.NumberFormat(locale);
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === "ar" ? "rtl" : "ltr";
}

useLanguage(chosen());

/** Add strings: {key: {en, ar}}; a counting string's en/ar is {one, other, ...} (Intl.PluralRules categories). */
export function define(entries) {
  for (const [key, value] of Object.entries(entries)) strings.set(key, value);
}

/** The string `key` in the page's language, `{name}` filled from `vars` (numbers formatted for the language). */
export function t(key, vars = {}) {
  const entry = strings.get(key);
  if (!entry) return key;
  let text = entry[lang] ?? entry.en;
  if (typeof text === "object") text = text[plurals.select(vars.count ?? 0)] ?? text.other;
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in vars)) return whole;
    const value = vars[name];
    return typeof value === "number" ? numbers.format(value) : String(value);
  });
}

/** A number as the language writes it. */
export function number(value) {
  return numbers.format(value);
}

/** A calendar date's formatter in the page's language (the date read as UTC: a day, whatever the browser's zone); it
 * follows a change of language. */
export function dateFormat(options) {
  let made = null;
  return {
    format(moment) {
      if (made?.locale !== locale) made = { locale, format: new Intl.DateTimeFormat(locale, { timeZone: "UTC", ...options }) };
      return made.format.format(moment);
    },
  };
}

/** "26 Jumada al-Akhirah 1448" for the server's Hijri date "1448-06-26" (Umm al-Qura, as the server computed it). */
export function hijriLabel(iso, { year = true } = {}) {
  const [y, m, d] = String(iso || "").split("-").map(Number);
  const month = HIJRI_MONTHS[lang][m - 1];
  if (!month || !d) return String(iso || "");
  return year ? `${number(d)} ${month} ${new Intl.NumberFormat(locale, { useGrouping: false }).format(y)}` : `${number(d)} ${month}`;
}

const slotTimes = dateFormat({ hour: "numeric", minute: "2-digit", hour12: true });

/** A slot's time as the language writes it: the server's label ("1:00 PM") in English, the language's own else. */
export function slotTime(timeSlot, serverLabel) {
  return lang === "en" ? serverLabel : slotTimes.format(new Date(`1970-01-01T${timeSlot}:00Z`));
}

/** Put the page's static labels in its language. */
export function translatePage(root = document) {
  for (const element of root.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
  for (const element of root.querySelectorAll("[data-i18n-placeholder]")) element.placeholder = t(element.dataset.i18nPlaceholder);
  for (const element of root.querySelectorAll("[data-i18n-label]")) element.setAttribute("aria-label", t(element.dataset.i18nLabel));
  for (const element of root.querySelectorAll("[data-i18n-title]")) element.title = t(element.dataset.i18nTitle);
}

/** Switch to `next` for this browser from now on: the page reloads in it (the address keeps the view and day). */
export function chooseLanguage(next) {
  if (!(next in LANGUAGES) || next === lang) return;
  remember(next);
  const url = new URL(location.href);
  url.searchParams.delete("lang");
  if (url.href === location.href) location.reload();
  else location.assign(url.href);
}

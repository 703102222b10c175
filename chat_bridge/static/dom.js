// Tiny DOM helpers: elements are built with textContent only, never from HTML strings.

import { locale } from "./i18n.js";

const ARABIC_LETTER = /^[\u0620-\u064A\u066E-\u06D3\u06FA-\u06FF\u0750-\u077F\u08A0-\u08C9]/u;
const ARABIC_ARTICLE = "ال";
const ZWNJ = "\u200C"; // keeps two Arabic initials apart: "ل" and "ع", not one joined shape

/** An element: h("p", {class: "x", dir: "auto", onclick: fn}, "text", child, ...). */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An inline SVG icon from the sprite in index.html. */
export function icon(name, label) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", `icon icon-${name}`);
  if (label) {
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
  } else {
    svg.setAttribute("aria-hidden", "true");
  }
  const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
  use.setAttribute("href", `#i-${name}`);
  svg.append(use);
  return svg;
}

/** A run that reads left to right on either page direction (a phone number, an ISO date): "+966…" in Arabic
 * text would otherwise show its "+" at the far end. */
export function leftToRight(text) {
  return h("bdi", { dir: "ltr" }, text);
}

/** A translated sentence with elements in it: fill("Set {names} in {file}", {names: [...], file: node}) gives the
 * children to append (a placeholder without a part stays as it is). */
export function fill(text, parts) {
  return text.split(/\{(\w+)\}/).map((piece, index) => (index % 2 ? parts[piece] ?? `{${piece}}` : piece));
}

/** Initials for an avatar: the first letters of a name's first two words, else the last two digits of a number.
 * Arabic skips a word's article ("العتيبي" gives "ع") and keeps its letters apart, so they never join. */
export function initials(name, fallback = "") {
  const words = (name || "").trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return fallback.slice(-2);
  const letters = words.slice(0, 2).map(initial);
  return letters.join(letters.some((letter) => ARABIC_LETTER.test(letter)) ? ZWNJ : "");
}

function initial(word) {
  const letters = Array.from(word);
  if (!ARABIC_LETTER.test(word)) return letters[0].toUpperCase();
  return word.startsWith(ARABIC_ARTICLE) && letters.length > 3 ? letters[2] : letters[0];
}

let timeFormat = null;
let dayTimeFormat = null;
let dayKey = null;
let clinicToday = () => dayKey.format(new Date());

/** Show times in the clinic's zone (the operator may sit elsewhere); `today` gives the clinic's date as the server
 * tells it (`/config`), so that a browser whose clock is off still calls the clinic's today "today". */
export function useTimeZone(timeZone = zone, today) {
  if (today) clinicToday = today;
  zone = timeZone;
  timeFormat = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", timeZone });
  dayTimeFormat = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone });
  dayKey = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone });
}

let zone; // the clinic's time zone once known; until then the browser's
useTimeZone(undefined);

/** "14:05" for today, "3 Dec, 14:05" for another day, in the clinic's zone. */
export function shortTime(iso) {
  if (!iso) return "";
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return "";
  const sameDay = dayKey.format(moment) === clinicToday();
  return (sameDay ? timeFormat : dayTimeFormat).format(moment);
}

/** Pretty JSON for a value that may be JSON text; other text as it is. */
export function prettyJson(value) {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

/** Call `fn` once `wait` ms have passed without another call. */
export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

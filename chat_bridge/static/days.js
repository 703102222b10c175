// Which days the calendar strip shows: the days a conversation mentions, or the week from a picked day.

import { addDays } from "./calendar.js";
import { define, t } from "./i18n.js";

define({
  "days.caption.picked": { en: "The week from the day you picked", ar: "الأسبوع ابتداءً من اليوم الذي اخترته" },
  "days.caption.touched": { en: "Days this conversation touches", ar: "الأيام التي تذكرها هذه المحادثة" },
  "days.caption.coming": { en: "The next seven days", ar: "الأيام السبعة القادمة" },
});

const SHOWN = 7;
// ISO dates in text; "2026-12-01T10:00" (a timestamp) and Hijri years (14xx) do not count as a day touched.
const ISO_DAY = /\b(?:19|20|21)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b/g;

/** The ISO dates in `text`. */
export function daysIn(text) {
  return Array.from(String(text || "").matchAll(ISO_DAY), (match) => match[0])
    .filter((day) => !Number.isNaN(Date.parse(`${day}T00:00:00Z`)));
}

export class ConversationDays {
  constructor() {
    this.reset();
  }

  reset() {
    this.touched = []; // the most recently mentioned last
    this.from = null; // a day picked by the operator
  }

  /** Days in the messages' text, tool arguments and results, and confirmation previews. */
  touchMessages(messages) {
    for (const message of messages) {
      const meta = message.meta || {};
      this.touch(daysIn(message.text));
      if (meta.arguments) this.touch(daysIn(JSON.stringify(meta.arguments)));
      if (meta.result) this.touch(daysIn(typeof meta.result === "string" ? meta.result : JSON.stringify(meta.result)));
      if (meta.preview && meta.preview.days) this.touch(Object.keys(meta.preview.days));
    }
  }

  touch(days) {
    for (const day of days) {
      const at = this.touched.indexOf(day);
      if (at >= 0) this.touched.splice(at, 1);
      this.touched.push(day);
    }
  }

  /** The picked week, else the latest days touched, else the week from `today`. */
  shown(today) {
    const from = this.from || (this.touched.length ? null : today);
    if (from) return Array.from({ length: SHOWN }, (_, n) => addDays(from, n));
    return this.touched.slice(-SHOWN);
  }

  caption() {
    if (this.from) return t("days.caption.picked");
    return t(this.touched.length ? "days.caption.touched" : "days.caption.coming");
  }
}

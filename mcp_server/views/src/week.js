// The week view: the console's board in its week view, read-only (no book, move, mark or close), on the week of the
// day the tool was asked about, else today; previous, next and today step through weeks, each a `system_view_week`
// call. Every number on it is the server's snapshot, as the console shows it.

import { CalendarBoard, FORMATS, stepped, validDay, weekStart } from "../../../chat_bridge/static/board.js";
import { h, useTimeZone } from "../../../chat_bridge/static/dom.js";
import { define, lang, t } from "../../../chat_bridge/static/i18n.js";
import { answered, failure } from "./outcome.js";

define({
  "views.week.previous": { en: "Previous week", ar: "الأسبوع السابق" },
  "views.week.next": { en: "Next week", ar: "الأسبوع التالي" },
  "views.week.today": { en: "Today", ar: "اليوم" },
  "views.week.loading": { en: "Loading the week…", ar: "جارٍ تحميل الأسبوع…" },
});

const VIEW_WEEK_TOOL = "system_view_week";

/** The day a tool's arguments are about: the first of `dates`, else `start_date`; null when neither is a day. */
export function askedDay(args) {
  const dates = [].concat(args?.dates ?? []);
  return validDay(dates[0]) || validDay(args?.start_date) || null;
}

/** Today by this browser's clock and zone: a first guess until the server says which day is the clinic's today. */
function guessedToday() {
  return new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

export class WeekView {
  constructor(root, app) {
    Object.assign(this, { root, app, asked: null, today: null, ready: false, shown: 0, error: null });
    this.title = h("h1", { class: "view-title", id: "week-title" });
    this.status = h("p", { class: "board-status", role: "status", "aria-live": "polite" });
    this.boardRoot = h("div", { class: "board", id: "board" });
    this.board = new CalendarBoard(this.boardRoot, { fetchRange: (start) => this.fetchWeek(start), onError: (message) => this.fail(message) });
    this.redraw();
    this.state("connecting");
  }

  /** The calendar is the server's: a week comes from `system_view_week` (its snapshot is the console's `/calendar`). */
  async fetchWeek(start) {
    const result = answered(await this.app.callServerTool({ name: VIEW_WEEK_TOOL, arguments: { day: start, ar: lang === "ar" } }));
    const week = result.structuredContent;
    if (!week?.snapshot) throw new Error(`${VIEW_WEEK_TOOL} answered without a snapshot`);
    this.today = week.today;
    useTimeZone(week.snapshot.timezone); // times in the clinic's zone, whatever the host's
    return week.snapshot;
  }

  /** The tool's arguments: its first day chooses the week (once connected, at once). */
  input(args) {
    const day = askedDay(args);
    if (!day) return;
    this.asked = day;
    const shown = this.board.date && weekStart(this.board.date) === weekStart(day);
    if (this.ready && !shown) this.show(day);
  }

  result() {} // the tool's own answer is for the model: this view reads the calendar itself

  async connected() {
    this.ready = true;
    this.redraw();
    if (this.asked) return this.show(this.asked);
    const guess = guessedToday();
    await this.show(guess);
    if (!this.asked && this.today && weekStart(this.today) !== weekStart(guess)) await this.show(this.today);
  }

  failed(error) {
    this.fail(failure(error));
  }

  /** Show the week of `day`; its state says whether it is loading, shown, or why not. */
  async show(day) {
    const mine = ++this.shown;
    this.error = null;
    this.state("loading");
    this.status.textContent = t("views.week.loading");
    this.title.textContent = t("board.week_of", { day: FORMATS.day.format(new Date(`${weekStart(day)}T00:00:00Z`)) });
    await this.board.show("week", day);
    if (mine !== this.shown || this.error) return;
    this.status.textContent = "";
    this.state("ready");
  }

  fail(message) {
    this.error = message;
    this.status.textContent = message;
    this.status.dataset.kind = "error";
    this.state("error");
  }

  state(name) {
    this.root.dataset.viewState = name;
    if (name !== "error") delete this.status.dataset.kind;
  }

  /** Draw the frame in the page's language (again after the host's language changed), and the week if one is shown. */
  redraw() {
    const step = (action, label, text, next) => h("button", {
      type: "button", class: "button", "data-action": action, "aria-label": label, disabled: !this.ready,
      onclick: () => this.show(next()),
    }, text);
    const nav = h("div", { class: "board-nav" },
      step("previous", t("views.week.previous"), "‹", () => stepped("week", this.board.date, -1)),
      step("today", null, t("views.week.today"), () => this.today || guessedToday()),
      step("next", t("views.week.next"), "›", () => stepped("week", this.board.date, 1)));
    this.root.replaceChildren(h("section", { class: "board-panel view-week", "aria-labelledby": "week-title" },
      h("header", { class: "board-head" }, this.title, nav), this.status, this.boardRoot));
    if (this.board.date) this.show(this.board.date);
  }
}

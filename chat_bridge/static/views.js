// Which part of the console shows: the conversations, or the calendar's week or month view of a day, as the address
// says (`/?view=week&date=2026-12-13`: linkable, back and forward work); on a phone, one section at a time, chosen by
// the tabs at the bottom (chats, a chat, the agent, the calendar).

import { FORMATS, VIEWS, stepped, validDay, weekStart } from "./board.js";
import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

export class Views {
  /** board: the CalendarBoard; today(): the clinic's today; onAgent(): open the agent's conversation. */
  constructor({ board, today, onAgent }) {
    Object.assign(this, { board, today, onAgent });
    this.wire();
  }

  /** The view and day in the address; no view is the conversations. */
  wanted() {
    const params = new URLSearchParams(location.search);
    const view = VIEWS.includes(params.get("view")) ? params.get("view") : null;
    return { view, date: validDay(params.get("date")) || this.today() };
  }

  /** Show `view` of `date` (default: the address's); `push`: the address changes here, not by the browser's history. */
  show(push, view = this.wanted().view, date = this.wanted().date) {
    if (push) {
      const search = view ? `?view=${view}&date=${date}` : "";
      history.pushState(null, "", `${location.pathname}${search}${location.hash}`);
    }
    document.body.dataset.view = view || "chats";
    $("board-panel").hidden = !view;
    for (const name of ["chats", ...VIEWS]) {
      if ((view || "chats") === name) $(`view-${name}`).setAttribute("aria-current", "page");
      else $(`view-${name}`).removeAttribute("aria-current");
    }
    if (!view) {
      this.board.date = null;
      if (document.body.dataset.tab === "calendar") this.tab("agent");
      return;
    }
    this.tab("calendar");
    $("board-title").textContent = view === "week"
      ? t("board.week_of", { day: FORMATS.day.format(new Date(`${weekStart(date)}T00:00:00Z`)) })
      : FORMATS.month.format(new Date(`${date}T00:00:00Z`));
    $("board-date").value = date;
    $("board-close-days").disabled = true;
    this.board.show(view, date);
  }

  /** On a phone, show one section: chats (the list), chat (a customer's conversation), agent, calendar. */
  tab(tab) {
    document.body.dataset.tab = tab;
    const pressed = tab === "chat" ? "chats" : tab;
    for (const button of document.querySelectorAll(".phone-tabs [data-tab]")) {
      button.setAttribute("aria-pressed", String(button.dataset.tab === pressed));
    }
  }

  wire() {
    const board = this.board;
    const go = (view, date) => this.show(true, view, date);
    for (const name of ["chats", ...VIEWS]) {
      $(`view-${name}`).addEventListener("click", (event) => {
        event.preventDefault();
        go(name === "chats" ? null : name, board.date || this.today());
      });
    }
    window.addEventListener("popstate", () => this.show(false));
    $("board-prev").addEventListener("click", () => go(board.view, stepped(board.view, board.date, -1)));
    $("board-next").addEventListener("click", () => go(board.view, stepped(board.view, board.date, 1)));
    $("board-today").addEventListener("click", () => go(board.view, this.today()));
    $("board-date").addEventListener("change", () => {
      const day = validDay($("board-date").value);
      if (day) go(board.view, day);
    });
    $("board").addEventListener("click", (event) => {
      const link = event.target.closest("[data-goto]");
      if (!link) return;
      event.preventDefault();
      go("week", link.dataset.goto);
    });
    document.querySelector(".phone-tabs").addEventListener("click", (event) => this.tapped(event));
  }

  tapped(event) {
    const tab = event.target.closest("[data-tab]")?.dataset.tab;
    if (!tab) return;
    if (tab === "calendar") return this.show(true, this.board.view || "week", this.board.date || this.today());
    if (this.board.date) this.show(true, null);
    this.tab(tab);
    if (tab === "agent") this.onAgent();
  }
}

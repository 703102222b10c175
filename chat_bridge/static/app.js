// The operator console: wires the API, the realtime channel, the picker, the conversation and the calendar.

import { LANGUAGES, chooseLanguage, define, lang, t, translatePage } from "./i18n.js";
import "./labels.js";
import { api, operatorToken, realtimeUrl, unauthorized } from "./api.js";
import { CalendarBoard } from "./board.js";
import { Views } from "./views.js";
import { CalendarStrip } from "./calendar.js";
import { ContactCombobox, contactLabel } from "./combobox.js";
import { Composer } from "./composer.js";
import { ConversationView } from "./conversation.js";
import { ConversationDays } from "./days.js";
import { debounce, h, icon, useTimeZone } from "./dom.js";
import { renderAgentNotice, renderHeader, renderRecent, renderTyping } from "./panels.js";
import { Dashboard } from "./dashboard.js";
import { FrontDesk } from "./frontdesk.js";
import { NoticesPanel } from "./notices.js";
import { WaitlistPanel } from "./waitlist.js";
import { Realtime } from "./realtime.js";
import { SignIn, showSession } from "./signin.js";
import { AuditPanel } from "./audit.js";

const PAGE_SIZE = 50;
const RECENT_SHOWN = 8;
define({
  "app.live": { en: "Live", ar: "متصل" },
  "app.connecting": { en: "Connecting…", ar: "جارٍ الاتصال…" },
  "app.offline": { en: "Offline · reconnecting", ar: "غير متصل · جارٍ إعادة الاتصال" },
  "app.session_ended": { en: "Your session ended: enter the operator token again.", ar: "انتهت جلستك: أدخل رمز موظف الاستقبال مرة أخرى." },
  "app.signed_out": { en: "Your session ended: sign in again.", ar: "انتهت جلستك: سجّل الدخول مرة أخرى." },
  "app.read_only": { en: "Your role reads only: ask the agent, or an operator, to change things.", ar: "دورك للاطلاع فقط: اطلب من المساعد أو من موظف الاستقبال إجراء التغييرات." },
  "app.title": { en: "{name} · Operator console", ar: "{name} · لوحة موظف الاستقبال" },
  "app.needs_model": { en: "The agent needs a language model before it can answer", ar: "يحتاج المساعد إلى نموذج لغوي قبل أن يجيب" },
  "app.ask": { en: "Ask {name}…", ar: "اسأل {name}…" },
  "app.message_whatsapp": { en: "Message on WhatsApp…", ar: "رسالة عبر واتساب…" },
  "app.agent_empty": {
    en: "Ask {name} to find, book, move or cancel appointments, e.g. “move all users from next Sunday to Tuesday”.",
    ar: "اطلب من {name} البحث عن المواعيد أو حجزها أو نقلها أو إلغاءها، مثلًا: «انقل جميع مواعيد الأحد القادم إلى الثلاثاء».",
  },
  "app.customer_empty": { en: "No messages with this customer yet.", ar: "لا رسائل مع هذا العميل بعد." },
  "app.answer_not_sent": { en: "Your answer was not sent: {error}", ar: "لم تُرسل إجابتك: {error}" },
  "app.agent_failed": { en: "The agent could not answer.", ar: "تعذّر على المساعد الإجابة." },
});
const CONNECTION_TEXT = { open: "app.live", connecting: "app.connecting", offline: "app.offline" };

const $ = (id) => document.getElementById(id);

/** What the page needs before anything else, from `/config`. @type {ConsoleConfig} */ let config;

const state = {
  agentStatus: null,
  contacts: [],
  selected: null,
  generation: 0, // which conversation the answers in flight are for
  olderBefore: null,
  unread: new Map(),
  typing: new Set(),
};

const days = new ConversationDays();
const realtime = new Realtime(realtimeUrl);
const signIn = new SignIn($("login"));
const audit = new AuditPanel($("audit"), {
  load: (query) => api(`/audit?${query}`),
  staff: () => api("/staff"),
});
$("open-audit").addEventListener("click", () => audit.open());
const view = new ConversationView($("messages"), { onAnswer: answerConfirmation });
const strip = new CalendarStrip($("calendar-days"), {
  fetchRange: (start, end) => api(`/calendar?start=${start}&end=${end}`),
  onError: (message) => { $("calendar-error").textContent = message; },
});
const notices = new NoticesPanel($("notices"), $("notice-batches"), $("notice-unsure"), {
  load: () => api("/notices/batches?limit=5"),
  decide: (noticeId, choice) => api(`/notices/${noticeId}/${choice}`, { method: "POST", body: {} }),
});
const refreshNoticesSoon = debounce(() => notices.refresh(), 300);
const waitlist = new WaitlistPanel($("waitlist"), {
  load: () => api("/waitlist"),
  add: (body) => api("/waitlist", { method: "POST", body }),
  remove: (entryId) => api(`/waitlist/${entryId}`, { method: "DELETE" }),
});
const refreshWaitlistSoon = debounce(() => waitlist.refresh(), 300);
const dashboard = new Dashboard($("dashboard"), {
  load: (start, end) => api(`/dashboard?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`),
  today: () => config.today,
});
$("open-dashboard").addEventListener("click", () => dashboard.open());
const picker = new ContactCombobox({
  input: $("contact-input"),
  listbox: $("contact-listbox"),
  status: $("contact-status"),
  loadAll: () => api("/customers/names"),
  search: (query) => api(`/customers/search?q=${encodeURIComponent(query)}&limit=20`),
  onSelect: (contact) => openConversation(contact),
  unread: (waId) => state.unread.get(waId) || 0,
});
const composer = new Composer({
  form: $("composer"),
  input: $("composer-input"),
  button: $("composer-send"),
  error: $("composer-error"),
  send: async (text) => (await api("/whatsapp/message", {
    method: "POST", body: { wa_id: state.selected.wa_id, message: text, _call_source: "console" },
  })).message,
  stored: (message) => received(message, { scroll: "bottom" }),
});

// --- start and sign-in ---------------------------------------------------------------------------------

async function boot() {
  translatePage();
  document.title = t("page.title");
  $("language").value = lang;
  try {
    config = await api("/config");
  } catch (error) {
    return fatal(error.message);
  }
  $("sign-out").hidden = !config.token_required && !config.accounts;
  signIn.useAccounts(config.accounts);
  useTimeZone(config.timezone, () => config.today);
  picker.systemAgent = config.system_agent;
  desk = new FrontDesk({
    api, config,
    onChanged: (what) => {
      if (what === "closed") {
        board.selected.clear();
        $("board-close-days").disabled = true;
      }
      refreshBoardSoon();
    },
    els: { book: $("book-dialog"), sheet: $("booking-dialog"), close: $("close-dialog"), confirm: $("confirm-dialog"),
      history: $("history-dialog"), status: $("board-status") },
  });
  let session = null;
  try {
    if (config.accounts) session = (await signIn.current()) || (await signIn.ask());
    else if (config.token_required && !operatorToken.get()) await signIn.ask();
  } catch (error) {
    return fatal(error.message);
  }
  signedIn(session);
  await start();
}

/** Who is signed in: their name and role in the header, the role on <body>, the audit log for an admin. */
function signedIn(session) {
  showSession(session, { who: $("who"), name: $("who-name"), role: $("who-role") });
  $("open-audit").hidden = !(config.accounts && session?.user.role === "admin");
}

/** Whether the signed-in role only reads (it may still ask the agent, whose tools are then read-only). */
const readOnly = () => document.body.dataset.role === "viewer";

/** Load what the page needs, connect, and open the conversation in the address (else the agent's). */
async function start() {
  let contacts;
  try {
    [contacts, state.agentStatus] = await Promise.all([api("/customers/names"), api("/agent/status")]);
  } catch (error) {
    if (error.status !== 401) fatal(error.message); // a 401 has brought the sign-in prompt up
    return;
  }
  state.contacts = contacts;
  realtime.start();
  notices.refresh();
  waitlist.refresh();
  views.tab("agent");
  views.show(false);
  const wanted = new URLSearchParams(location.hash.slice(1)).get("c");
  await openConversation(contacts.find((/** @type {CustomerView} */ c) => c.wa_id === wanted) || contacts[0]);
}

function fatal(message) {
  $("messages").replaceChildren(h("div", { class: "log-error", role: "alert" }, icon("alert"), message));
}

unauthorized.addEventListener("unauthorized", async () => {
  if (signIn.asking) return;
  operatorToken.clear();
  realtime.stop();
  const session = await signIn.ask(t(config.accounts ? "app.signed_out" : "app.session_ended"));
  if (config.accounts) signedIn(session);
  if (!state.selected) return start();
  realtime.start();
  openConversation(state.selected);
});

$("sign-out").addEventListener("click", async () => {
  operatorToken.clear();
  if (config?.accounts) await api("/session", { method: "DELETE", silent: true }).catch(() => null);
  location.reload();
});

// --- the conversation ----------------------------------------------------------------------------------

/** @param {CustomerView} contact */
async function openConversation(contact) {
  const generation = ++state.generation;
  state.selected = contact;
  state.unread.delete(contact.wa_id);
  days.reset();
  picker.select(contact);
  showRecent();
  history.replaceState(null, "", `#c=${contact.wa_id}`);
  document.title = t("app.title", { name: contactLabel(contact) });
  renderHeader(contact);
  if (document.body.dataset.tab === "chats") views.tab(contact.is_system_agent ? "agent" : "chat");
  const blocked = renderAgentNotice(contact, state.agentStatus);
  const mayWrite = contact.is_system_agent || !readOnly();
  composer.enable(!blocked && mayWrite, mayWrite ? placeholder(contact, blocked) : t("app.read_only"));
  renderTyping(contact, state.typing.has(contact.wa_id));
  view.reset(contact, config.system_agent.name);
  $("load-older").hidden = true;
  const page = await loadPage(contact, generation);
  if (page && generation === state.generation) {
    state.olderBefore = page.next_before_id;
    $("load-older").hidden = !state.olderBefore;
    if (!page.messages.length) view.empty(emptyText(contact));
  }
  updateCalendar();
}

/** The newest page of `contact`'s conversation, shown; null when it failed or another was chosen meanwhile. */
/** @param {CustomerView} contact */
async function loadPage(contact, generation, beforeId = null) {
  const log = $("messages");
  log.setAttribute("aria-busy", "true");
  try {
    const before = beforeId ? `&before_id=${beforeId}` : "";
    const page = await api(`/conversations/${contact.wa_id}?limit=${PAGE_SIZE}${before}`);
    if (generation !== state.generation) return null;
    view.show(page.messages, { scroll: beforeId ? "keep" : "bottom" });
    days.touchMessages(page.messages);
    return page;
  } catch (error) {
    if (generation === state.generation) view.error(error.message);
    return null;
  } finally {
    if (generation === state.generation) log.removeAttribute("aria-busy");
  }
}

$("load-older").addEventListener("click", async () => {
  const log = $("messages");
  const fromBottom = log.scrollHeight - log.scrollTop;
  const page = await loadPage(state.selected, state.generation, state.olderBefore);
  if (!page) return;
  log.scrollTop = log.scrollHeight - fromBottom;
  state.olderBefore = page.next_before_id;
  $("load-older").hidden = !state.olderBefore;
});

/** @param {CustomerView} contact */
function placeholder(contact, blocked) {
  if (blocked) return t("app.needs_model");
  return contact.is_system_agent ? t("app.ask", { name: contact.name }) : t("app.message_whatsapp");
}

/** @param {CustomerView} contact */
function emptyText(contact) {
  return contact.is_system_agent
    ? t("app.agent_empty", { name: contact.name })
    : t("app.customer_empty");
}

/** A stored message of the open conversation: shown (once), and its days followed by the calendar. */
function received(message, options) {
  if (!state.selected || message.wa_id !== state.selected.wa_id) return;
  view.show([message], options);
  days.touchMessages([message]);
  updateCalendar();
}

async function answerConfirmation(confirmationId, accept) {
  view.resolve(confirmationId, "sending");
  try {
    await api(`/confirmations/${encodeURIComponent(confirmationId)}`, { method: "POST", body: { accept } });
    view.resolve(confirmationId, accept ? "accepted" : "declined");
  } catch (error) {
    const gone = error.status === 404;
    view.resolve(confirmationId, gone ? "expired" : "pending", gone ? error.message : t("app.answer_not_sent", { error: error.message }));
  }
}

// --- recent conversations ------------------------------------------------------------------------------

function showRecent() {
  renderRecent(state.contacts.slice(0, RECENT_SHOWN), {
    selected: state.selected?.wa_id, unread: (waId) => state.unread.get(waId) || 0, open: openConversation,
  });
}

/** The contact list again (a new customer, a new last message), once activity settles. */
const reloadRecent = debounce(async () => {
  try {
    state.contacts = await api("/customers/names");
  } catch {
    return;
  }
  showRecent();
}, 400);

// --- realtime ------------------------------------------------------------------------------------------

const HANDLERS = {
  conversation_new_message: (/** @type {NewMessageEvent} */ posted) => {
    reloadRecent();
    if (state.selected && posted.wa_id === state.selected.wa_id) return received(posted.message);
    state.unread.set(posted.wa_id, (state.unread.get(posted.wa_id) || 0) + 1);
  },
  conversation_typing: (/** @type {TypingEvent} */ answering) => {
    if (answering.typing) state.typing.add(answering.wa_id);
    else state.typing.delete(answering.wa_id);
    if (answering.wa_id === state.selected?.wa_id) renderTyping(state.selected, answering.typing);
  },
  system_agent_error: (/** @type {AgentErrorEvent} */ failure) => {
    state.typing.delete(failure.wa_id);
    if (failure.wa_id !== state.selected?.wa_id) return;
    renderTyping(state.selected, false);
    view.error(failure.error || t("app.agent_failed"));
  },
  confirmation_request: (/** @type {ConfirmationRequestEvent} */ asked) => {
    if (asked.wa_id !== state.selected?.wa_id) return;
    view.showRequest(asked);
    days.touch(Object.keys(asked.preview?.days || {}));
    updateCalendar();
  },
  notice_updated: () => {
    refreshNoticesSoon();
    refreshWaitlistSoon(); // an offer or its end is a notice
  },
  calendar_days_changed: (/** @type {DaysChangedEvent} */ changed) => {
    if (board.date && changed.days.some((day) => board.shows(day))) refreshBoardSoon();
  },
  confirmation_resolved: (/** @type {ConfirmationResolvedEvent} */ resolved) => {
    view.resolve(resolved.confirmation_id, resolved.state);
  },
};

/** A reservation changed: the strip reloads; the day joins it when this conversation caused the change. */
function calendarChanged(/** @type {ReservationEvent} */ change) {
  const /** @type {ReservationView} */ booking = change.reservation;
  const contact = state.selected;
  const ours = contact && (contact.is_system_agent ? state.typing.has(contact.wa_id) : booking.wa_id === contact.wa_id);
  if (ours && booking.date) days.touch([booking.date]);
  refreshCalendarSoon();
}

realtime.addEventListener("event", ({ detail: event }) => {
  if (event.type.startsWith("reservation_")) return calendarChanged(event);
  HANDLERS[event.type]?.(event);
});

realtime.addEventListener("status", ({ detail }) => {
  $("connection").dataset.state = detail;
  $("connection-text").textContent = t(CONNECTION_TEXT[detail]);
});

/** After a reconnection, events may have been missed: the newest page and the calendar again. */
realtime.addEventListener("resync", async () => {
  refreshNoticesSoon();
  refreshWaitlistSoon();
  if (!state.selected) return;
  await loadPage(state.selected, state.generation);
  updateCalendar();
  strip.refresh();
  if (board.date) board.refresh();
});

// --- the calendar strip --------------------------------------------------------------------------------

/** Show the days the conversation touches (or the picked week); returns undefined when they did not change. */
function updateCalendar() {
  const shown = days.shown(config.today);
  $("calendar-caption").textContent = days.caption();
  $("calendar-reset").hidden = !days.from;
  $("calendar-error").textContent = "";
  const highlight = state.selected && !state.selected.is_system_agent ? state.selected.wa_id : null;
  const same = shown.join() === strip.days.join() && highlight === strip.highlight;
  return same ? undefined : strip.show(shown, highlight);
}

const refreshCalendarSoon = debounce(() => {
  if (updateCalendar() === undefined) strip.refresh();
  if (board.date) board.refresh();
}, 120);

$("day-picker").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!$("day-input").value) return;
  days.from = $("day-input").value;
  updateCalendar();
});

$("calendar-reset").addEventListener("click", () => {
  days.from = null;
  $("day-input").value = "";
  updateCalendar();
});

window.addEventListener("hashchange", () => {
  const wanted = new URLSearchParams(location.hash.slice(1)).get("c");
  const contact = state.contacts.find((/** @type {CustomerView} */ c) => c.wa_id === wanted);
  if (contact && wanted !== state.selected?.wa_id) openConversation(contact);
});

// --- the front desk: week and month views, acting from the calendar ---------------------------------------

/** The front desk's acts, once `/config` is known. */ let desk;
const board = new CalendarBoard($("board"), {
  fetchRange: (start, end) => api(`/calendar?start=${start}&end=${end}`),
  onError: (message) => desk.say(message, "error"),
  actions: {
    book: (date, slot) => desk.book(date, slot),
    open: (booking, date, slot) => desk.open(booking, date, slot),
    move: (dragged, date, slot) => desk.move(dragged, date, slot),
    markDay: (day) => desk.markDay(day),
  },
});
const refreshBoardSoon = debounce(() => { if (board.date) board.refresh(); }, 120);

const views = new Views({ board, today: () => config.today, onAgent: openAgent });
$("board").addEventListener("selection", ({ detail }) => { $("board-close-days").disabled = !detail.length; });
$("board-close-days").addEventListener("click", () => desk.closeDays([...board.selected].sort()));
$("open-history").addEventListener("click", () => desk.history());
$("language").addEventListener("change", () => chooseLanguage($("language").value in LANGUAGES ? $("language").value : "en"));

/** The agent's conversation, unless it is open. */
function openAgent() {
  const agent = state.contacts.find((/** @type {CustomerView} */ c) => c.is_system_agent);
  if (agent && state.selected?.wa_id !== agent.wa_id) openConversation(agent);
}

boot();

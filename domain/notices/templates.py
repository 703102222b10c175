"""The WhatsApp templates the clinic's notices use: one per purpose (a moved or cancelled appointment, the
day-before reminder, a free notice), each with its approved name, its body per language and which of the
notice's fields fill its parameters, in order.

English and Arabic defaults are built in; `NOTICE_TEMPLATES` (JSON) replaces any of them. A template that
names an unknown field, whose body's placeholders do not match its fields, or that lacks the clinic's
default language is refused when the settings are read, never at send time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from domain.notices.quiet import QuietHours


class NoticePurpose(StrEnum):
    MOVED = "moved"
    BOOKED = "booked"  # a booking made for the customer, or one restored by undoing its cancellation
    CANCELLED = "cancelled"
    REMINDER = "reminder"  # the day before
    SAME_DAY = "same_day"  # the same day, some hours before the slot
    NOTICE = "notice"
    REPLY = "reply"  # an agent's answer to the customer's own message: free text, never a template
    OFFER = "offer"  # a waitlist place offered to the customer, with Accept / Decline buttons
    OFFER_GONE = "offer_gone"  # the waitlist place offered to them has gone (taken, or its hold ended)


LANGUAGES = ("en", "ar")
# The quick-reply buttons' actions, in order, of the purposes that carry them (reminders, waitlist offers).
REMINDER_ACTIONS = ("confirm", "reschedule", "cancel")
OFFER_ACTIONS = ("accept", "decline")
BUTTON_ACTIONS = {"reminder": REMINDER_ACTIONS, "same_day": REMINDER_ACTIONS, "offer": OFFER_ACTIONS}
BUTTON_PURPOSES = tuple(BUTTON_ACTIONS)
MAX_BUTTON_TITLE = 20  # WhatsApp's limit on a reply button's title
REMINDER_BUTTONS = {"en": {"confirm": "Confirm", "reschedule": "Reschedule", "cancel": "Cancel"},
                    "ar": {"confirm": "تأكيد الموعد", "reschedule": "تغيير الموعد", "cancel": "إلغاء الموعد"}}
OFFER_BUTTONS = {"en": {"accept": "Accept", "decline": "Decline"}, "ar": {"accept": "قبول", "decline": "رفض"}}
# What a notice knows, and so what a template's parameters may be.
FIELDS = ("customer_name", "old_date", "old_time", "old_weekday", "new_date", "new_time", "new_weekday",
          "clinic_name", "text")
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
WEEKDAYS = {"en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
            "ar": ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")}
ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")
LATIN_LETTER = re.compile(r"[A-Za-z]")


# What a customer answers to stop notices, or to have them again (compared without case, spaces or punctuation).
STOP_WORDS = ("stop", "unsubscribe", "stop notices", "إيقاف", "ايقاف", "توقف", "الغاء الاشتراك", "إلغاء الاشتراك")
START_WORDS = ("start", "subscribe", "اشتراك", "ابدأ", "ابدا")
# A customer with no name on record is greeted with these.
NO_NAME = {"en": "dear customer", "ar": "عزيزنا العميل"}


class TemplateError(ValueError):
    """A template setting that cannot work; the message names the purpose and what to fix."""


@dataclass(frozen=True)
class NoticeTemplate:
    """An approved template: `name` as WhatsApp knows it, `bodies` per language code ({{1}}... placeholders),
    `fields` filling the placeholders in order, and for a reminder its quick-reply buttons' titles per language
    (action -> title, in the order of `BUTTON_ACTIONS`)."""

    purpose: NoticePurpose
    name: str
    bodies: Mapping[str, str]
    fields: tuple[str, ...]
    buttons: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def button_titles(self, language: str) -> list[tuple[str, str]]:
        """(action, title) of the buttons in `language` (else English), in order; none for a template without."""
        titles = self.buttons.get(language) or self.buttons.get("en") or {}
        return [(action, titles[action]) for action in BUTTON_ACTIONS.get(self.purpose.value, ()) if action in titles]

    def parameters(self, values: Mapping[str, str]) -> tuple[str, ...]:
        """The parameters WhatsApp is sent, in order, each on one line (WhatsApp refuses a parameter with a
        line break, a tab or a run of spaces); a field without a value is refused."""
        flat = {f: " ".join(str(values.get(f) or "").split()) for f in self.fields}
        missing = [f for f, value in flat.items() if not value]
        if missing:
            raise TemplateError(f"The {self.purpose} notice needs {', '.join(missing)}.")
        return tuple(flat[f] for f in self.fields)

    def render(self, language: str, values: Mapping[str, str]) -> str:
        """The text the customer will read (for previews and the conversation)."""
        parameters = self.parameters(values)
        return PLACEHOLDER.sub(lambda m: parameters[int(m.group(1)) - 1], self.bodies[language])


DEFAULTS: dict[NoticePurpose, dict[str, Any]] = {
    NoticePurpose.MOVED: {
        "name": "appointment_moved",
        "fields": ["customer_name", "clinic_name", "old_weekday", "old_date", "old_time", "new_weekday", "new_date",
                   "new_time"],
        "bodies": {"en": "Hello {{1}}, {{2}} has moved your appointment from {{3}} {{4}} at {{5}} to {{6}} {{7}} "
                         "at {{8}}. Reply here if that time does not suit you.",
                   "ar": "مرحباً {{1}}، قامت {{2}} بنقل موعدك من {{3}} {{4}} الساعة {{5}} إلى {{6}} {{7}} الساعة "
                         "{{8}}. ردّ هنا إن لم يناسبك الموعد."}},
    NoticePurpose.BOOKED: {
        "name": "appointment_booked",
        "fields": ["customer_name", "clinic_name", "new_weekday", "new_date", "new_time"],
        "bodies": {"en": "Hello {{1}}, {{2}} has booked your appointment on {{3}} {{4}} at {{5}}. Reply here if that "
                         "time does not suit you.",
                   "ar": "مرحباً {{1}}، حجزت {{2}} موعدك يوم {{3}} {{4}} الساعة {{5}}. ردّ هنا إن لم يناسبك الموعد."}},
    NoticePurpose.CANCELLED: {
        "name": "appointment_cancelled",
        "fields": ["customer_name", "clinic_name", "old_weekday", "old_date", "old_time"],
        "bodies": {"en": "Hello {{1}}, {{2}} has cancelled your appointment on {{3}} {{4}} at {{5}}. Reply here to "
                         "book another time.",
                   "ar": "مرحباً {{1}}، ألغت {{2}} موعدك يوم {{3}} {{4}} الساعة {{5}}. ردّ هنا لحجز موعد آخر."}},
    NoticePurpose.REMINDER: {
        "name": "appointment_reminder",
        "fields": ["customer_name", "clinic_name", "new_weekday", "new_date", "new_time"],
        "bodies": {"en": "Hello {{1}}, a reminder from {{2}}: your appointment is tomorrow, {{3}} {{4}} at {{5}}.",
                   "ar": "مرحباً {{1}}، تذكير من {{2}}: موعدك غداً {{3}} {{4}} الساعة {{5}}."},
        "buttons": REMINDER_BUTTONS},
    NoticePurpose.SAME_DAY: {
        "name": "appointment_reminder_today",
        "fields": ["customer_name", "clinic_name", "new_time"],
        "bodies": {"en": "Hello {{1}}, a reminder from {{2}}: your appointment is today at {{3}}.",
                   "ar": "مرحباً {{1}}، تذكير من {{2}}: موعدك اليوم الساعة {{3}}."},
        "buttons": REMINDER_BUTTONS},
    NoticePurpose.OFFER: {
        "name": "waitlist_offer",
        "fields": ["customer_name", "clinic_name", "new_weekday", "new_date", "new_time"],
        "bodies": {"en": "Hello {{1}}, a place has opened at {{2}} on {{3}} {{4}} at {{5}}. It is held for a short "
                         "time for the first to accept: press Accept to book it, or Decline.",
                   "ar": "مرحباً {{1}}، توفر مكان في {{2}} يوم {{3}} {{4}} الساعة {{5}}. المكان محجوز لوقت قصير لأول "
                         "من يقبل: اضغط قبول لحجزه، أو رفض."},
        "buttons": OFFER_BUTTONS},
    NoticePurpose.OFFER_GONE: {
        "name": "waitlist_offer_gone",
        "fields": ["customer_name", "clinic_name", "new_weekday", "new_date", "new_time"],
        "bodies": {"en": "Hello {{1}}, the place at {{2}} on {{3}} {{4}} at {{5}} has gone. You are still on the "
                         "waitlist.",
                   "ar": "مرحباً {{1}}، لم يعد المكان في {{2}} يوم {{3}} {{4}} الساعة {{5}} متاحاً. ما زلت في قائمة "
                         "الانتظار."}},
    NoticePurpose.NOTICE: {
        "name": "clinic_notice",
        "fields": ["customer_name", "clinic_name", "text"],
        "bodies": {"en": "Hello {{1}}, a message from {{2}}: {{3}}",
                   "ar": "مرحباً {{1}}، رسالة من {{2}}: {{3}}"}},
}


def notice_templates(overrides: str = "", default_language: str = "ar") -> dict[NoticePurpose, NoticeTemplate]:
    """The templates of every purpose: the defaults, with `overrides` (JSON: purpose -> {name, fields, bodies,
    buttons}, each key optional; a reminder's `buttons` is language -> action -> title, each language given
    replacing the built-in one) applied. Raises `TemplateError` saying what is wrong."""
    if default_language not in LANGUAGES:
        raise TemplateError(f"The default notice language must be one of {', '.join(LANGUAGES)}.")
    try:
        given = json.loads(overrides) if overrides.strip() else {}
    except ValueError as error:
        raise TemplateError(f"NOTICE_TEMPLATES is not valid JSON: {error}") from None
    if not isinstance(given, dict):
        raise TemplateError("NOTICE_TEMPLATES must be a JSON object of purpose -> template.")
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise TemplateError(f"NOTICE_TEMPLATES names unknown purposes {unknown}; the purposes are "
                            f"{', '.join(DEFAULTS)}.")
    templates = {}
    for purpose in DEFAULTS:
        change = given.get(purpose.value, {})
        if not isinstance(change, dict):
            raise TemplateError(f"NOTICE_TEMPLATES[{purpose.value!r}] must be an object with name, fields, bodies.")
        spec = {**DEFAULTS[purpose], **change}
        if isinstance(change.get("buttons"), dict):
            spec["buttons"] = {**DEFAULTS[purpose].get("buttons", {}), **change["buttons"]}
        templates[purpose] = _checked(purpose, spec, default_language)
    return templates


def _checked(purpose: NoticePurpose, spec: dict[str, Any], default_language: str) -> NoticeTemplate:
    name, fields, bodies = spec.get("name"), spec.get("fields"), spec.get("bodies")
    where = f"the {purpose.value} template"
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,512}", name):
        raise TemplateError(f"{where}: the name must be WhatsApp's template name (lower case, digits, _).")
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise TemplateError(f"{where}: fields must be a list of field names.")
    if unknown := [f for f in fields if f not in FIELDS]:
        raise TemplateError(f"{where}: unknown fields {unknown}; the fields are {', '.join(FIELDS)}.")
    if not isinstance(bodies, dict) or not all(isinstance(b, str) for b in bodies.values()):
        raise TemplateError(f"{where}: bodies must map a language code to the approved text.")
    if default_language not in bodies:
        raise TemplateError(f"{where}: there is no body in the clinic's default language {default_language!r}.")
    for language, body in bodies.items():
        if language not in LANGUAGES:
            raise TemplateError(f"{where}: unknown language {language!r}; the languages are {', '.join(LANGUAGES)}.")
        numbers = sorted({int(n) for n in PLACEHOLDER.findall(body)})
        if numbers != list(range(1, len(fields) + 1)):
            raise TemplateError(f"{where} ({language}): the body's placeholders {numbers} do not match its "
                                f"{len(fields)} fields (want {{{{1}}}} to {{{{{len(fields)}}}}}).")
    return NoticeTemplate(purpose, name, dict(bodies), tuple(fields), _checked_buttons(purpose, spec.get("buttons")))


def _checked_buttons(purpose: NoticePurpose, buttons: Any) -> dict[str, dict[str, str]]:
    """A reminder's or an offer's button titles: language -> every action -> a title of 1 to 20 characters."""
    where = f"the {purpose.value} template's buttons"
    if buttons is None:
        return {}
    if purpose.value not in BUTTON_PURPOSES:
        raise TemplateError(f"{where}: only {', '.join(BUTTON_PURPOSES)} carry buttons.")
    if not isinstance(buttons, dict):
        raise TemplateError(f"{where}: must map a language code to {{action: title}}.")
    for language, titles in buttons.items():
        if language not in LANGUAGES:
            raise TemplateError(f"{where}: unknown language {language!r}; the languages are {', '.join(LANGUAGES)}.")
        actions = BUTTON_ACTIONS[purpose.value]
        if not isinstance(titles, dict) or sorted(titles) != sorted(actions):
            raise TemplateError(f"{where} ({language}): give a title for each of {', '.join(actions)}.")
        if bad := [a for a, t in titles.items() if not isinstance(t, str) or not 0 < len(t.strip()) <= MAX_BUTTON_TITLE]:
            raise TemplateError(f"{where} ({language}): the titles of {bad} must be 1 to {MAX_BUTTON_TITLE} "
                                f"characters (WhatsApp's limit).")
    return {language: {a: t.strip() for a, t in titles.items()} for language, titles in buttons.items()}


def language_of(texts: Iterable[str], default: str) -> str:
    """The language a customer writes in: of their newest message with letters, Arabic or Latin; else `default`."""
    for text in texts:
        arabic, latin = len(ARABIC_LETTER.findall(text)), len(LATIN_LETTER.findall(text))
        if arabic or latin:
            return "ar" if arabic >= latin else "en"
    return default


def weekday(day: date, language: str) -> str:
    return WEEKDAYS[language][day.weekday()]


@dataclass(frozen=True)
class NoticeConfig:
    """How the clinic messages its customers: templates, the clinic's name, the language of a customer who has
    not written, the stop and start words, the day-before reminders' local time (None: no reminders), the
    same-day reminder's hours before the slot (None: none), the quiet hours that hold notices that are not
    urgent (None: never held), and the outbox worker's rate, lease and attempts."""

    templates: Mapping[NoticePurpose, NoticeTemplate] = field(default_factory=notice_templates)
    clinic_name: str = "the clinic"
    default_language: str = "ar"
    stop_words: tuple[str, ...] = STOP_WORDS
    start_words: tuple[str, ...] = START_WORDS
    reminder_time: time | None = time(19)
    same_day_hours: float | None = None
    quiet_hours: QuietHours | None = field(default_factory=QuietHours)
    zone: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Riyadh"))  # the clinic's, for the quiet hours
    rate_per_second: float = 10.0
    lease_seconds: float = 30.0
    max_attempts: int = 10

    def is_stop(self, text: str) -> bool:
        return spoken(text) in {spoken(w) for w in self.stop_words}

    def is_start(self, text: str) -> bool:
        return spoken(text) in {spoken(w) for w in self.start_words}


def spoken(text: str) -> str:
    """A short answer as compared with the stop words: letters and digits only, lower case, single spaces."""
    kept = "".join(c if c.isalnum() or c.isspace() else " " for c in text[:200].casefold())
    return " ".join(kept.split())

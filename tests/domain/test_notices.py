"""The notices' WhatsApp templates: the built-in English and Arabic ones, a clinic's own, and every mistake in
them refused when the settings are read."""

from __future__ import annotations

import json
from datetime import date, time
from pathlib import Path

import pytest

from calendar_agent.settings import SettingsError, load_settings
from domain.notices.templates import NoticeConfig, NoticePurpose, TemplateError, language_of, notice_templates, weekday

MOVE = {"customer_name": "فاطمة", "clinic_name": "عيادة النور", "old_weekday": weekday(date(2026, 12, 8), "ar"),
        "old_date": "2026-12-08", "old_time": "11:00", "new_weekday": weekday(date(2026, 12, 9), "ar"),
        "new_date": "2026-12-09", "new_time": "11:00"}


def test_the_built_in_templates_render_in_both_languages() -> None:
    templates = notice_templates()
    moved = templates[NoticePurpose.MOVED]
    assert moved.render("ar", MOVE) == ("مرحباً فاطمة، قامت عيادة النور بنقل موعدك من الثلاثاء 2026-12-08 الساعة "
                                        "11:00 إلى الأربعاء 2026-12-09 الساعة 11:00. ردّ هنا إن لم يناسبك الموعد.")
    english = dict(MOVE, customer_name="Omar", clinic_name="Al Noor Clinic", old_weekday="Tuesday",
                   new_weekday="Wednesday")
    assert moved.render("en", english).startswith("Hello Omar, Al Noor Clinic has moved your appointment from "
                                                  "Tuesday 2026-12-08 at 11:00 to Wednesday 2026-12-09 at 11:00.")
    assert moved.parameters(english)[0] == "Omar" and len(moved.parameters(english)) == 8
    assert set(templates) == set(NoticePurpose) - {NoticePurpose.REPLY}  # a reply is free text


def test_a_notice_missing_a_value_is_refused_before_sending() -> None:
    with pytest.raises(TemplateError, match="needs new_time"):
        notice_templates()[NoticePurpose.MOVED].parameters(dict(MOVE, new_time=" \n "))


def test_a_value_with_line_breaks_and_runs_of_spaces_becomes_one_line() -> None:
    notice = notice_templates()[NoticePurpose.NOTICE]
    values = {"customer_name": "Omar\nHaddad", "clinic_name": "Al Noor", "text": "Closed\ttomorrow,     sorry"}
    assert notice.parameters(values) == ("Omar Haddad", "Al Noor", "Closed tomorrow, sorry")


def test_a_clinic_replaces_a_template_name_and_body() -> None:
    own = {"reminder": {"name": "noor_reminder_v2", "fields": ["customer_name", "new_time"],
                        "bodies": {"ar": "{{1}}، موعدك غداً الساعة {{2}}"}}}
    reminder = notice_templates(json.dumps(own))[NoticePurpose.REMINDER]
    assert reminder.name == "noor_reminder_v2"
    assert reminder.render("ar", {"customer_name": "ليلى", "new_time": "13:00"}) == "ليلى، موعدك غداً الساعة 13:00"


@pytest.mark.parametrize(("override", "reason"), [
    ("{not json", "not valid JSON"),
    ('["moved"]', "JSON object"),
    ('{"postponed": {}}', "unknown purposes"),
    ('{"moved": {"fields": ["customer_name", "shoe_size"]}}', "unknown fields"),
    ('{"moved": {"name": "Appointment Moved!"}}', "WhatsApp's template name"),
    ('{"cancelled": {"bodies": {"en": "Hello {{1}}"}}}', "no body in the clinic's default language 'ar'"),
    ('{"cancelled": {"bodies": {"ar": "مرحباً {{1}} {{3}}"}}}', "placeholders \\[1, 3\\] do not match"),
    ('{"notice": {"bodies": {"ar": "{{1}} {{2}} {{3}}", "fr": "{{1}} {{2}} {{3}}"}}}', "unknown language 'fr'"),
])
def test_a_wrong_template_is_refused_saying_what_to_fix(override: str, reason: str) -> None:
    with pytest.raises(TemplateError, match=reason):
        notice_templates(override)


def test_the_settings_refuse_a_wrong_template_when_they_are_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text('NOTICE_TEMPLATES={"moved": {"fields": ["customer_name"]}}\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="NOTICE_TEMPLATES: the moved template \\(en\\): the body's placeholders"):
        load_settings(env)
    assert load_settings(clinic_name="Al Noor").templates()[NoticePurpose.NOTICE].name == "clinic_notice"


def test_a_customers_language_is_the_one_of_their_newest_message_with_letters() -> None:
    assert language_of(["١٢٣", "أريد موعداً يوم الأحد", "hello"], "en") == "ar"
    assert language_of(["12:00?", "Can I come on Sunday", "مرحبا"], "ar") == "en"
    assert language_of(["👍", "٣"], "ar") == "ar" and language_of([], "en") == "en"


@pytest.mark.parametrize("answer", ["STOP", " stop! ", "Stop.", "إيقاف", "الغاء الاشتراك", "إلغاء  الاشتراك؟"])
def test_a_stop_word_is_recognised_however_it_is_typed(answer: str) -> None:
    assert NoticeConfig().is_stop(answer)


@pytest.mark.parametrize("answer", ["please stop moving my appointment", "stopped", "توقف عن الاتصال", "", "x" * 5000])
def test_a_sentence_that_contains_a_stop_word_is_not_one(answer: str) -> None:
    assert not NoticeConfig().is_stop(answer)


def test_start_words_and_a_clinics_own_words() -> None:
    assert NoticeConfig().is_start("ابدأ") and NoticeConfig().is_start("START")
    own = load_settings(notice_stop_words="no more, كفى").notice_config()
    assert own.is_stop("No more") and own.is_stop("كفى") and not own.is_stop("stop")


def test_the_reminder_time_is_a_local_clock_time_or_nothing() -> None:
    assert load_settings(reminder_time="07:30").notice_config().reminder_time == time(7, 30)
    assert load_settings(reminder_time="").notice_config().reminder_time is None
    with pytest.raises(SettingsError, match="REMINDER_TIME"):
        load_settings(reminder_time="25:00")

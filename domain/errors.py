"""Expected failures: a stable code and a sentence a person or a model can act on, in English or Arabic."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    """What went wrong, as an adapter needs to know it (the bridge answers each with its own HTTP status)."""

    MALFORMED = "malformed"  # the request could not be read at all (a body that is not JSON)
    INVALID = "invalid"  # the input is wrong whatever the calendar holds: fix the request
    NOT_FOUND = "not_found"  # it names a customer, reservation or batch that does not exist
    CONFLICT = "conflict"  # well formed, but the calendar's current state refuses it (full, cancelled, changed)


# code -> (English, Arabic). Placeholders are filled from the error's details.
MESSAGES: dict[str, tuple[str, str]] = {
    "invalid_wa_id": (
        "The phone number '{value}' is not a valid WhatsApp number.",
        "رقم الهاتف '{value}' ليس رقم واتساب صالحًا.",
    ),
    "invalid_date": (
        "The date '{value}' is not valid; use YYYY-MM-DD.",
        "التاريخ '{value}' غير صالح؛ استخدم الصيغة YYYY-MM-DD.",
    ),
    "invalid_time": (
        "The time '{value}' is not valid; use 13:00 or 1:00 PM.",
        "الوقت '{value}' غير صالح؛ استخدم 13:00 أو 1:00 PM.",
    ),
    "invalid_type": (
        "Unknown reservation type '{value}'. Valid types: {valid}.",
        "نوع الحجز '{value}' غير معروف. الأنواع المتاحة: {valid}.",
    ),
    "invalid_range": (
        "The start date {start} is after the end date {end}.",
        "تاريخ البداية {start} بعد تاريخ النهاية {end}.",
    ),
    "range_too_long": (
        "The date range is too long; at most {max_days} days.",
        "نطاق التواريخ طويل جدًا؛ الحد الأقصى {max_days} يومًا.",
    ),
    "clinic_closed": (
        "The clinic is closed on this day ({date}, {hijri} AH).",
        "العيادة مغلقة في هذا اليوم ({date}، {hijri} هـ).",
    ),
    "vacation": (
        "The clinic is closed for {title} from {start} to {end} ({start_hijri} to {end_hijri} AH).",
        "العيادة مغلقة بسبب {title} من {start} إلى {end} ({start_hijri} إلى {end_hijri} هـ).",
    ),
    "closed_hours": (
        "The clinic is closed for {title} from {from_time} to {to_time}, {start} to {end} ({start_hijri} to "
        "{end_hijri} AH).",
        "العيادة مغلقة بسبب {title} من الساعة {from_time} إلى {to_time}، من {start} إلى {end} ({start_hijri} إلى "
        "{end_hijri} هـ).",
    ),
    "closure_overlaps": (
        "The clinic is already closed for {title} from {start_date} to {end_date} ({start_hijri} to {end_hijri} AH, "
        "closure {id}); reopen it first, or close other days.",
        "العيادة مغلقة بالفعل بسبب {title} من {start_date} إلى {end_date} ({start_hijri} إلى {end_hijri} هـ، "
        "الإغلاق {id})؛ أعد فتحها أولًا أو أغلق أيامًا أخرى.",
    ),
    "closure_not_found": ("No closure with id {id}.", "لا يوجد إغلاق بالمعرّف {id}."),
    "invalid_username": (
        "The username '{value}' is not valid: 2 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit.",
        "اسم المستخدم '{value}' غير صالح: من 2 إلى 64 من الحروف a-z والأرقام 0-9 و'.' و'_' و'-'، يبدأ بحرف أو رقم.",
    ),
    "invalid_role": ("Unknown role '{value}'. Roles: {valid}.", "الدور '{value}' غير معروف. الأدوار: {valid}."),
    "weak_password": (
        "A password must be {min} to {max} characters long.",
        "يجب أن تكون كلمة المرور من {min} إلى {max} حرفًا.",
    ),
    "user_exists": ("A staff account named '{username}' exists already.", "يوجد حساب باسم '{username}' بالفعل."),
    "user_not_found": ("No staff account is named '{username}'.", "لا يوجد حساب باسم '{username}'."),
    "sign_in_refused": (
        "The username or password is wrong, or the account is disabled.",
        "اسم المستخدم أو كلمة المرور غير صحيحة، أو الحساب معطّل.",
    ),
    "notice_not_found": ("No notice with id {id}.", "لا يوجد إشعار بالمعرّف {id}."),
    "notice_not_unsure": (
        "Notice {id} is {status}: only a notice whose send is unsure can be sent again or dismissed.",
        "الإشعار {id} حالته {status}: لا يُعاد إرسال إشعار أو يُستبعد إلا إذا كان إرساله غير مؤكد.",
    ),
    "slot_unavailable": (
        "{time} is not a bookable time on {date} ({hijri} AH){period}. Available times: {valid}.",
        "الساعة {time} ليست موعدًا متاحًا يوم {date} ({hijri} هـ){period_ar}. المواعيد المتاحة: {valid}.",
    ),
    "day_full": ("No slot on {date} ({hijri} AH) has room left.", "لا يوجد موعد متاح في {date} ({hijri} هـ)."),
    "past_date": ("Cannot reserve in the past.", "لا يمكن الحجز في وقت مضى."),
    "past_reservation": (
        "This reservation is in the past and cannot be changed or cancelled.",
        "هذا الحجز في الماضي ولا يمكن تعديله أو إلغاؤه.",
    ),
    "slot_full": ("This time slot is fully booked.", "هذا الموعد محجوز بالكامل."),
    "type_full": (
        "This time slot has no room left for {type_name} appointments.",
        "لا يوجد مكان متبقٍ لمواعيد {type_name} في هذا الموعد.",
    ),
    "capacity_above_limit": (
        "max_reservations cannot be above {limit}.",
        "لا يمكن أن يتجاوز max_reservations القيمة {limit}.",
    ),
    "reservation_not_found": ("Reservation not found.", "لم يتم العثور على الحجز."),
    "no_future_reservation": (
        "This customer has no upcoming reservation.",
        "لا يوجد لدى هذا العميل حجز قادم.",
    ),
    "already_cancelled": ("This reservation is already cancelled.", "هذا الحجز ملغى بالفعل."),
    "not_cancelled": ("This reservation is not cancelled.", "هذا الحجز غير ملغى."),
    "reservation_no_show": ("This booking is marked a no-show; it cannot be cancelled or changed.",
                            "هذا الحجز مسجَّل بعدم الحضور؛ لا يمكن إلغاؤه أو تغييره."),
    "attendance_unchanged": ("This reservation is already marked {mark} or cannot be marked so now.",
                             "هذا الحجز مسجَّل بالفعل بهذه الحالة ({mark}) أو لا يمكن تسجيله بها الآن."),
    "attendance_too_early": ("A reservation can be marked {mark} only once its time slot has started.",
                             "لا يمكن تسجيل الحجز بهذه الحالة ({mark}) إلا بعد بدء موعده."),
    "attendance_filters_needed": ("Name the reservations to mark: reservation_ids, or a date or date range.",
                                  "حدِّد الحجوزات المراد تسجيلها: أرقام الحجوزات، أو تاريخًا أو نطاق تواريخ."),
    "customer_not_found": ("No customer with that number.", "لا يوجد عميل بهذا الرقم."),
    "customer_blocked": ("This customer is blocked: no message goes to them.",
                         "هذا العميل محظور: لا تُرسل إليه رسائل."),
    "customer_opted_out": ("This customer opted out of the clinic's messages: none goes to them.",
                           "ألغى هذا العميل الاشتراك في رسائل العيادة: لا تُرسل إليه رسالة."),
    "wa_id_taken": (
        "The number {value} already belongs to another customer.",
        "الرقم {value} مسجل لعميل آخر.",
    ),
    "nothing_to_change": (
        "Nothing to change: give a new date, time, type, name or number.",
        "لا يوجد ما يتم تغييره: حدد تاريخًا أو وقتًا أو نوعًا أو اسمًا أو رقمًا جديدًا.",
    ),
    "reservation_cancelled": (
        "This reservation is cancelled; reserve again or undo the cancellation.",
        "هذا الحجز ملغى؛ احجز من جديد أو تراجع عن الإلغاء.",
    ),
    "has_future_reservation": (
        "This customer already has an upcoming reservation (#{id}); modify it instead.",
        "لدى هذا العميل حجز قادم بالفعل (#{id})؛ عدّله بدلًا من ذلك.",
    ),
    "invalid_batch": ("The batch is invalid: {reason}", "الدفعة غير صالحة: {reason}"),
    "invalid_request": ("The request is invalid: {reason}", "الطلب غير صالح: {reason}"),
    "batch_not_found": ("No batch with id {batch_id}.", "لا توجد دفعة بالمعرّف {batch_id}."),
    "batch_already_undone": ("Batch {batch_id} was already undone.", "تم التراجع عن الدفعة {batch_id} مسبقًا."),
    "message_already_sent": (
        "The message to this customer is already {status}: it cannot be taken back.",
        "الرسالة إلى هذا العميل {status} بالفعل: لا يمكن استرجاعها.",
    ),
    "message_not_requeued": (
        "A message an undo withdrew is not queued again: send it anew with system_message_customers.",
        "الرسالة التي سحبها تراجع لا تُعاد إلى الطابور: أرسلها من جديد عبر system_message_customers.",
    ),
    "changed_since": (
        "This reservation changed after the batch; it was left as it is.",
        "تغيّر هذا الحجز بعد الدفعة؛ تُرك كما هو.",
    ),
    "confirmation_invalid": (
        "The confirmation token is invalid, expired, used, or for a different change; ask the user again.",
        "رمز التأكيد غير صالح أو منتهي أو مستخدم أو لتغيير مختلف؛ اسأل المستخدم مرة أخرى.",
    ),
    "atomic_rolled_back": (
        "Not applied: another item of this atomic batch failed.",
        "لم يُنفّذ: فشل عنصر آخر في هذه الدفعة الذرية.",
    ),
    "invalid_name": (
        "The name is not valid: at most {max} characters.",
        "الاسم غير صالح: {max} حرفًا على الأكثر.",
    ),
    "invalid_name_character": (
        "The name is not valid: it holds the invisible character {char}; write it as plain text without it.",
        "الاسم غير صالح: فيه الحرف غير المرئي {char}؛ اكتبه نصًا عاديًا دونه.",
    ),
    "query_too_long": (
        "The search is too long: at most {max} characters.",
        "نص البحث طويل جدًا: {max} حرفًا على الأكثر.",
    ),
    "waitlist_past": (
        "The waitlist range cannot start before today ({today}).",
        "لا يمكن أن يبدأ نطاق قائمة الانتظار قبل اليوم ({today}).",
    ),
    "waitlist_no_open_day": (
        "The clinic has no open day from {start} to {end}: choose other dates for the waitlist.",
        "لا يوجد يوم عمل في العيادة من {start} إلى {end}: اختر تواريخ أخرى لقائمة الانتظار.",
    ),
    "waitlist_time_not_slot": (
        "{time} is not a slot start on any open day from {start} to {end}. Slot starts: {valid}.",
        "الساعة {time} ليست بداية موعد في أي يوم عمل من {start} إلى {end}. بدايات المواعيد: {valid}.",
    ),
    "waitlist_blocked": (
        "This customer is blocked and cannot join the waitlist.",
        "هذا العميل محظور ولا يمكنه الانضمام إلى قائمة الانتظار.",
    ),
    "waitlist_entry_not_found": (
        "No waiting waitlist entry found.",
        "لا يوجد طلب انتظار قائم.",
    ),
    "idempotency_key_reused": (
        "The idempotency_key '{key}' was already used by another call ({tool} with other arguments); "
        "use a new key for a new change, or repeat the first call exactly to get its result.",
        "مفتاح idempotency_key '{key}' استُخدم في استدعاء آخر ({tool} بوسائط مختلفة)؛ "
        "استخدم مفتاحًا جديدًا لتغيير جديد، أو كرر الاستدعاء الأول كما هو للحصول على نتيجته.",
    ),
}

# code -> kind, for every code above.
KINDS: dict[str, ErrorKind] = {
    "invalid_wa_id": ErrorKind.INVALID,
    "invalid_date": ErrorKind.INVALID,
    "invalid_time": ErrorKind.INVALID,
    "invalid_type": ErrorKind.INVALID,
    "invalid_range": ErrorKind.INVALID,
    "range_too_long": ErrorKind.INVALID,
    "clinic_closed": ErrorKind.CONFLICT,
    "vacation": ErrorKind.CONFLICT,
    "closed_hours": ErrorKind.CONFLICT,
    "closure_overlaps": ErrorKind.CONFLICT,
    "closure_not_found": ErrorKind.NOT_FOUND,
    "notice_not_found": ErrorKind.NOT_FOUND,
    "notice_not_unsure": ErrorKind.CONFLICT,
    "slot_unavailable": ErrorKind.CONFLICT,
    "day_full": ErrorKind.CONFLICT,
    "past_date": ErrorKind.INVALID,
    "past_reservation": ErrorKind.CONFLICT,
    "slot_full": ErrorKind.CONFLICT,
    "type_full": ErrorKind.CONFLICT,
    "capacity_above_limit": ErrorKind.INVALID,
    "reservation_not_found": ErrorKind.NOT_FOUND,
    "no_future_reservation": ErrorKind.NOT_FOUND,
    "already_cancelled": ErrorKind.CONFLICT,
    "not_cancelled": ErrorKind.CONFLICT,
    "reservation_no_show": ErrorKind.CONFLICT,
    "attendance_unchanged": ErrorKind.CONFLICT,
    "attendance_too_early": ErrorKind.CONFLICT,
    "attendance_filters_needed": ErrorKind.INVALID,
    "customer_not_found": ErrorKind.NOT_FOUND,
    "customer_blocked": ErrorKind.CONFLICT,
    "customer_opted_out": ErrorKind.CONFLICT,
    "wa_id_taken": ErrorKind.CONFLICT,
    "nothing_to_change": ErrorKind.INVALID,
    "reservation_cancelled": ErrorKind.CONFLICT,
    "has_future_reservation": ErrorKind.CONFLICT,
    "invalid_batch": ErrorKind.INVALID,
    "invalid_request": ErrorKind.INVALID,
    "batch_not_found": ErrorKind.NOT_FOUND,
    "batch_already_undone": ErrorKind.CONFLICT,
    "changed_since": ErrorKind.CONFLICT,
    "message_already_sent": ErrorKind.CONFLICT,
    "message_not_requeued": ErrorKind.CONFLICT,
    "confirmation_invalid": ErrorKind.CONFLICT,
    "atomic_rolled_back": ErrorKind.CONFLICT,
    "invalid_name": ErrorKind.INVALID,
    "invalid_name_character": ErrorKind.INVALID,
    "query_too_long": ErrorKind.INVALID,
    "waitlist_past": ErrorKind.INVALID,
    "waitlist_no_open_day": ErrorKind.CONFLICT,
    "waitlist_time_not_slot": ErrorKind.INVALID,
    "waitlist_blocked": ErrorKind.CONFLICT,
    "waitlist_entry_not_found": ErrorKind.NOT_FOUND,
    "invalid_username": ErrorKind.INVALID,
    "invalid_role": ErrorKind.INVALID,
    "weak_password": ErrorKind.INVALID,
    "user_exists": ErrorKind.CONFLICT,
    "user_not_found": ErrorKind.NOT_FOUND,
    "sign_in_refused": ErrorKind.INVALID,
    # A key reused with other arguments is a wrong request, not a race (as the IETF Idempotency-Key draft has it).
    "idempotency_key_reused": ErrorKind.INVALID,
}


def error_body(code: str, message: str, /, **extra: Any) -> dict[str, Any]:
    """The one shape of an error answer on every HTTP surface: `{"error": {"code", "message"}}`, plus `extra`
    (a failed send also carries the message as stored)."""
    return {"error": {"code": code, "message": message}, **extra}


class DomainError(Exception):
    """An expected failure with a stable `code`; `message(ar=True)` gives the Arabic sentence."""

    def __init__(self, code: str, **details: Any) -> None:
        if code not in MESSAGES:
            raise KeyError(f"unknown domain error code {code!r}")
        self.code = code
        self.kind = KINDS[code]
        self.details = details
        super().__init__(self.message())

    def message(self, ar: bool = False) -> str:
        template = MESSAGES[self.code][1 if ar else 0]
        return template.format_map(_Missing(self.details))

    def to_dict(self, ar: bool = False) -> dict[str, str]:
        return {"code": self.code, "message": self.message(ar)}


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"

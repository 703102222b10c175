"""Settings: one frozen object read once from the environment and a settings file (`.env`).

Which file: `--env-file` or `CALENDAR_AGENT_ENV_FILE` when given (it must exist), else `.env` in the
working directory, else `.env` beside the project (so a client that starts the command from elsewhere,
such as Claude Desktop, still reads the project's settings). Variables in the environment win.

A relative SQLite path in DATABASE_URL (the default `./var/calendar.db` is one) is relative to the folder of
that settings file, or to the project without one; never to the working directory, which is wherever a client
happened to start the command.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from chat_bridge.agent.config import AgentConfig, ModelConfig
from chat_bridge.config import BridgeConfig
from chat_bridge.queue import AgentKind
from chat_bridge.security import parsed_origin
from chat_bridge.whatsapp import WhatsAppAccount
from domain.system_agent.effects import EffectLimits
from domain.workers.jobs import QuietPeriod
from domain.staff.oauth import OAuthLifetimes
from domain.config import WEEKDAY_NAMES, BookingSource, ClinicConfig, OpeningHours, ReservationType
from domain.waitlist.rules import WaitlistConfig
from domain.notices.quiet import QuietHours
from domain.notices.templates import (START_WORDS, STOP_WORDS, NoticeConfig, NoticePurpose, NoticeTemplate, TemplateError,
                            notice_templates)
from mcp_server.toolsets import listed_toolsets


class SettingsError(Exception):
    """A setting has a bad value; the message names the variable."""


DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/calendar.db"
ENV_FILE_VARIABLE = "CALENDAR_AGENT_ENV_FILE"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def settings_file(explicit: str | None = None, environ: Mapping[str, str] = os.environ,
                  cwd: Path | None = None) -> Path | None:
    """The settings file to read (see the module's docstring), or None when there is none."""
    given = explicit or environ.get(ENV_FILE_VARIABLE, "")
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise SettingsError(f"Invalid setting {ENV_FILE_VARIABLE} (or --env-file): {path} is not a file.")
        return path.resolve()
    for candidate in ((cwd or Path.cwd()) / ".env", PROJECT_ROOT / ".env"):
        if candidate.is_file():
            return candidate.resolve()
    return None


def parse_hours(value: str) -> OpeningHours | None:
    """'11:00-17:00' -> OpeningHours; 'closed' or '' -> None."""
    text = value.strip().lower()
    if text in ("", "closed", "off", "none"):
        return None
    opens, sep, closes = text.partition("-")
    if not sep:
        raise ValueError(f"expected HH:MM-HH:MM or 'closed', got {value!r}")
    hours = OpeningHours(opens=time.fromisoformat(opens.strip()), closes=time.fromisoformat(closes.strip()))
    if hours.closes <= hours.opens:
        raise ValueError(f"closing time must be after opening time in {value!r}")
    return hours


def parse_pairs(value: str) -> dict[int, str]:
    """'0:Check-up,1:Follow-up' -> {0: 'Check-up', 1: 'Follow-up'}."""
    pairs: dict[int, str] = {}
    for item in filter(None, (p.strip() for p in value.split(","))):
        key, sep, name = item.partition(":")
        if not sep or not key.strip().isdigit() or not name.strip():
            raise ValueError(f"expected id:value pairs separated by commas, got {item!r}")
        pairs[int(key)] = name.strip()
    return pairs


class Settings(BaseSettings):
    """Every variable of `.env.example`, with its default."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "Asia/Riyadh"
    system_agent_wa_id: str = "12125550123"
    system_agent_name: str = "Calendar AI Assistant"
    system_agent_prompt: str = ""
    customer_agent_prompt: str = ""

    hours_sunday: str = "11:00-17:00"
    hours_monday: str = "11:00-17:00"
    hours_tuesday: str = "11:00-17:00"
    hours_wednesday: str = "11:00-17:00"
    hours_thursday: str = "11:00-17:00"
    hours_friday: str = "closed"
    hours_saturday: str = "16:00-22:00"
    ramadan_hours: str = "10:00-16:00"
    slot_minutes: int = Field(default=120, gt=0, le=1440)
    capacity_agent: int = Field(default=5, ge=0)
    capacity_operator: int = Field(default=6, ge=0)
    type_capacity: str = ""
    reservation_types: str = "0:Check-up|كشف,1:Follow-up|مراجعة"  # id:English name|Arabic name
    history_limit: int = Field(default=30, gt=0)
    late_cancel_hours: float = Field(default=24, ge=0)  # a cancellation this close to the slot is late; 0: never
    auto_no_show_minutes: int = Field(default=0, ge=0, le=100_000)  # minutes after a slot ends; empty or 0: off

    llm_provider: Literal["anthropic", "openai"] = "anthropic"
    llm_model: str = ""
    anthropic_api_key: str = ""
    anthropic_base_url: str = ""
    openai_api_key: str = ""
    openai_base_url: str = ""
    llm_max_rounds: int = Field(default=10, gt=0)
    llm_timeout_seconds: float = Field(default=60.0, gt=0)
    # Retries by the provider's own SDK: 408, 409, 429, 5xx, timeouts and lost connections, with
    # exponential backoff and jitter, honouring the server's Retry-After.
    llm_max_retries: int = Field(default=2, ge=0, le=10)

    system_agent_mcp_url: str = ""
    system_agent_mcp_token: str = ""
    mcp_auth_token: str = ""
    mcp_allowed_hosts: str = ""
    # Toolsets listed beside the core tools (comma separated: messaging, closures, reports; or all); the others are
    # reached through more_tools (mcp_server.toolsets).
    mcp_toolsets: str = ""
    # Origins (scheme://host[:port]) whose pages may call the service besides the one it is reached at.
    allowed_origins: str = ""
    # Addresses or networks of the reverse proxies in front of the service: a request from one is never
    # taken for this machine's own, and their X-Forwarded-For and X-Forwarded-Proto are believed.
    trusted_proxies: str = ""
    operator_token: str = ""
    # The service's public origin (https://clinic.example) when a proxy serves it: the OAuth server's issuer and
    # `/mcp`'s resource. Empty: the origin each request was sent to (http://127.0.0.1:<port>, http://localhost:...).
    public_url: str = ""
    # How long an OAuth access token of `/mcp` lasts, and its refresh token (rotated at every use).
    oauth_access_minutes: int = Field(default=15, ge=1, le=24 * 60)
    oauth_refresh_days: int = Field(default=30, ge=1, le=365)
    # How much an agent applies without a person's yes, per operator turn and per conversation over the window
    # (`domain.system_agent.effects`): e.g. "bookings=5/30 free_text=1/5 whole_day=2"; unnamed effects keep
    # their defaults.
    confirmation_limits: str = Field(default="", max_length=500)
    confirmation_window_minutes: float = Field(default=60.0, gt=0, le=7 * 24 * 60)
    confirmation_timeout_seconds: float = Field(default=300.0, gt=0)
    confirmation_secret: str = ""
    # The durable work queue of agent turns (`domain.workers.jobs`): workers per instance, how often an idle worker
    # looks for jobs stored by other instances, the lease a running turn renews, attempts after crashes.
    queue_workers: int = Field(default=4, ge=1, le=64)
    queue_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    queue_lease_seconds: float = Field(default=60.0, ge=3)
    queue_max_attempts: int = Field(default=3, ge=1, le=20)
    # A customer's turn starts once they have written nothing for this long (a burst becomes one turn), and at
    # the latest this long after their first unanswered message; operators' turns start at once.
    customer_quiet_seconds: float = Field(default=1.5, ge=0, le=30)
    customer_quiet_max_seconds: float = Field(default=6.0, ge=0, le=120)
    # With several instances: Redis pub/sub carries what they tell each other (else PostgreSQL LISTEN/NOTIFY).
    redis_url: str = ""
    # Log lines on stderr: one JSON object each (request_id and conversation_id included), or plain text.
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    http_header_timeout_seconds: float = Field(default=10.0, gt=0)
    http_body_timeout_seconds: float = Field(default=30.0, gt=0)

    whatsapp_api_base_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_access_token: str = ""
    whatsapp_phone_number_id: str = ""
    whatsapp_app_secret: str = ""
    whatsapp_verify_token: str = ""
    # Notices to customers (`domain.notices.templates`): the clinic's name in them, the language of a customer who has
    # not written yet, and JSON replacing any of the built-in templates (purpose -> {name, fields, bodies}).
    clinic_name: str = Field(default="the clinic", min_length=1, max_length=100)
    notice_language: Literal["en", "ar"] = "ar"
    notice_templates: str = ""
    # The outbox worker: messages per second (per instance), the lease of a claim and of each send (a notice
    # whose holder died is taken back once it ends: sent again if its send never began, else `unsure`), and
    # attempts before it is failed for good. A lease longer than the WhatsApp client's timeout (15 s) keeps a
    # slow answer from turning a live send unsure.
    notice_rate_per_second: float = Field(default=10.0, gt=0, le=1000)
    notice_lease_seconds: float = Field(default=30.0, ge=1)
    notice_max_attempts: int = Field(default=10, ge=1, le=100)
    # Day-before reminders at this local time (HH:MM); empty turns them off.
    reminder_time: str = Field(default="19:00", pattern=r"^(([01]\d|2[0-3]):[0-5]\d)?$")
    # A same-day reminder this many hours before the slot (0: none).
    same_day_reminder_hours: float = Field(default=0, ge=0, le=24)
    # Quiet hours (local HH:MM-HH:MM, across midnight when the end is earlier): a notice that is not urgent waits
    # until they end (`domain.notices.quiet`); empty: never held.
    quiet_hours: str = Field(default="22:00-08:00",
                             pattern=r"^((([01]\d|2[0-3]):[0-5]\d)-(([01]\d|2[0-3]):[0-5]\d))?$")
    # What a customer answers to stop notices, and to have them again (comma-separated; empty: the built-in
    # Arabic and English words).
    notice_stop_words: str = ""
    notice_start_words: str = ""
    # The waitlist (`domain.waitlist`): how many waiting customers each wave offers a freed place to, how long a
    # wave holds it, the longest date range of an entry, and how often each instance sweeps for freed places.
    waitlist_wave_size: int = Field(default=3, ge=1, le=50)
    waitlist_hold_minutes: int = Field(default=15, ge=1, le=24 * 60)
    waitlist_max_days: int = Field(default=90, ge=1, le=366)
    waitlist_sweep_seconds: float = Field(default=60.0, ge=1, le=24 * 3600)

    @model_validator(mode="after")
    def _templates(self) -> Settings:
        try:
            notice_templates(self.notice_templates, self.notice_language)
        except TemplateError as error:
            raise ValueError(f"NOTICE_TEMPLATES: {error}") from None
        try:
            QuietHours.parse(self.quiet_hours)
        except ValueError as error:
            raise ValueError(f"QUIET_HOURS: {error}") from None
        return self

    def templates(self) -> dict[NoticePurpose, NoticeTemplate]:
        """The notices' WhatsApp templates, checked when these settings were read."""
        return notice_templates(self.notice_templates, self.notice_language)

    def notice_config(self) -> NoticeConfig:
        stop = tuple(w.strip() for w in self.notice_stop_words.split(",") if w.strip()) or STOP_WORDS
        start = tuple(w.strip() for w in self.notice_start_words.split(",") if w.strip()) or START_WORDS
        reminder = time.fromisoformat(self.reminder_time) if self.reminder_time else None
        return NoticeConfig(templates=self.templates(), clinic_name=self.clinic_name,
                            default_language=self.notice_language, stop_words=stop, start_words=start,
                            same_day_hours=self.same_day_reminder_hours or None,
                            quiet_hours=QuietHours.parse(self.quiet_hours),
                            reminder_time=reminder, rate_per_second=self.notice_rate_per_second,
                            lease_seconds=self.notice_lease_seconds,
                            max_attempts=self.notice_max_attempts)

    def waitlist_config(self) -> WaitlistConfig:
        return WaitlistConfig(wave_size=self.waitlist_wave_size, hold_minutes=self.waitlist_hold_minutes,
                              max_days=self.waitlist_max_days, sweep_seconds=self.waitlist_sweep_seconds)

    @field_validator(*(f"hours_{day}" for day in WEEKDAY_NAMES), "ramadan_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        parse_hours(value)
        return value

    @field_validator("type_capacity", "reservation_types")
    @classmethod
    def _pairs(cls, value: str) -> str:
        parse_pairs(value)
        return value

    @field_validator("reservation_types")
    @classmethod
    def _type_names(cls, value: str) -> str:
        for type_id, names in parse_pairs(value).items():
            if not names.partition("|")[0].strip():
                raise ValueError(f"type {type_id} needs a name before its Arabic one, got {names!r}")
        return value

    @field_validator("auto_no_show_minutes", mode="before")
    @classmethod
    def _empty_is_off(cls, value: object) -> object:
        """An empty AUTO_NO_SHOW_MINUTES is off, like 0."""
        return 0 if isinstance(value, str) and not value.strip() else value

    @field_validator("mcp_toolsets")
    @classmethod
    def _toolsets(cls, value: str) -> str:
        listed_toolsets(value)  # a ValueError names the toolsets there are
        return value

    @field_validator("confirmation_limits")
    @classmethod
    def _limits(cls, value: str) -> str:
        EffectLimits.parse(value)  # a ValueError names the word that is wrong
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in filter(None, (o.strip().rstrip("/") for o in value.split(","))):
            if parsed_origin(origin) is None:
                raise ValueError(f"expected origins such as https://clinic.example:8443, got {origin!r}")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        """An origin only (OAuth's issuer), over HTTPS unless it is this machine's loopback."""
        text = value.strip().rstrip("/")
        if not text:
            return ""
        scheme, _, rest = text.partition("://")
        key = parsed_origin(text)
        if key is None or "/" in rest or "?" in rest or "#" in rest:
            raise ValueError(f"expected an origin such as https://clinic.example, got {value!r}")
        if scheme.lower() != "https" and key[1] not in ("127.0.0.1", "localhost", "[::1]", "::1"):
            raise ValueError(f"it must be https beyond this machine's loopback, got {value!r}")
        return text

    def oauth_lifetimes(self) -> OAuthLifetimes:
        """How long the OAuth server's tokens last (`OAUTH_ACCESS_MINUTES`, `OAUTH_REFRESH_DAYS`)."""
        return OAuthLifetimes(access=timedelta(minutes=self.oauth_access_minutes),
                              refresh=timedelta(days=self.oauth_refresh_days))

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for proxy in value.split(","):
            if proxy.strip():
                ipaddress.ip_network(proxy.strip(), strict=False)
        return value

    def proxy_list(self) -> list[str]:
        """TRUSTED_PROXIES as a list of addresses and networks."""
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        ClinicConfig(timezone=value)
        return value

    def clinic_config(self) -> ClinicConfig:
        """The domain's view of these settings."""
        week = {day: parse_hours(getattr(self, f"hours_{day}")) for day in WEEKDAY_NAMES}
        return ClinicConfig(
            timezone=self.timezone,
            week=week,
            slot_minutes=self.slot_minutes,
            ramadan_hours=parse_hours(self.ramadan_hours),
            capacity={BookingSource.AGENT: self.capacity_agent, BookingSource.OPERATOR: self.capacity_operator},
            type_capacity={k: int(v) for k, v in parse_pairs(self.type_capacity).items()},
            reservation_types=tuple(
                ReservationType(id=k, name=v.partition("|")[0].strip(), name_ar=v.partition("|")[2].strip())
                for k, v in parse_pairs(self.reservation_types).items()
            ),
            history_limit=self.history_limit,
            system_agent_wa_id=self.system_agent_wa_id,
            system_agent_name=self.system_agent_name,
            late_cancel_hours=self.late_cancel_hours,
        )

    def agent_config(self) -> AgentConfig:
        """The agent runtime's view: the model (with the chosen provider's key and URL), prompts, rounds."""
        anthropic = self.llm_provider == "anthropic"
        model = ModelConfig(
            provider=self.llm_provider, model=self.llm_model,
            api_key=self.anthropic_api_key if anthropic else self.openai_api_key,
            base_url=self.anthropic_base_url if anthropic else self.openai_base_url,
            timeout_seconds=self.llm_timeout_seconds, max_retries=self.llm_max_retries,
        )
        return AgentConfig(model=model, max_rounds=self.llm_max_rounds, system_prompt=self.system_agent_prompt,
                           customer_prompt=self.customer_agent_prompt, system_mcp_url=self.system_agent_mcp_url,
                           system_mcp_token=self.system_agent_mcp_token)

    def bridge_config(self) -> BridgeConfig:
        """The bridge's view: the operators' token, Meta's webhook secrets, the confirmation limits."""
        return BridgeConfig(
            operator_token=self.operator_token or None, whatsapp_verify_token=self.whatsapp_verify_token,
            whatsapp_app_secret=self.whatsapp_app_secret, confirmation_limits=self.effect_limits().describe(),
            confirmation_timeout_seconds=self.confirmation_timeout_seconds,
        )

    def effect_limits(self) -> EffectLimits:
        """What an agent applies without asking a person (`CONFIRMATION_LIMITS`, `CONFIRMATION_WINDOW_MINUTES`)."""
        return EffectLimits.parse(self.confirmation_limits, self.confirmation_window_minutes)

    def quiet_period(self) -> QuietPeriod:
        """How long a customer's turn waits for the rest of a burst (operators' turns never wait)."""
        most = max(self.customer_quiet_seconds, self.customer_quiet_max_seconds)
        return QuietPeriod((AgentKind.CUSTOMER.value,), self.customer_quiet_seconds, most)

    def whatsapp_account(self) -> WhatsAppAccount:
        return WhatsAppAccount(self.whatsapp_api_base_url.rstrip("/"), self.whatsapp_phone_number_id,
                               self.whatsapp_access_token)


def load_settings(env_file: Path | None = None, **overrides: object) -> Settings:
    """Read the settings once, from the environment and `env_file` when given; a bad value raises
    `SettingsError` naming the variable. A relative SQLite path is made absolute (see the module's docstring)."""
    try:
        settings = Settings(_env_file=env_file, **overrides)  # type: ignore[arg-type, call-arg]
        settings.clinic_config()
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
    except ValueError as error:
        raise SettingsError(f"Invalid setting: {error}") from None
    base = env_file.resolve().parent if env_file is not None else PROJECT_ROOT
    return settings.model_copy(update={"database_url": absolute_sqlite(settings.database_url, base)})


def absolute_sqlite(database_url: str, base: Path) -> str:
    """`database_url` with a relative SQLite path made absolute against `base`; any other URL as it is."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return database_url  # said when the database is checked (`calendar_agent.database_check`)
    path = url.database
    if url.get_backend_name() != "sqlite" or not path or path == ":memory:" or Path(path).is_absolute():
        return database_url
    return url.set(database=str((base / path).resolve())).render_as_string(hide_password=False)


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        if not item["loc"]:  # a check of several settings together: its message names them
            lines.append(f"Invalid settings: {str(item['msg']).removeprefix('Value error, ')}")
            continue
        lines.append(f"Invalid setting {str(item['loc'][0]).upper()}: {item['msg']}")
    return "\n".join(lines)

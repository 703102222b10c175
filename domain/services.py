"""The domain's services over one database, built together so that they share its events and search index."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.calendar.attendance import AttendanceService
from domain.calendar.availability import AvailabilityService
from domain.clock import Clock, system_clock
from domain.config import ClinicConfig
from domain.calendar.conversations import ConversationService
from domain.calendar.customers import CustomerService
from domain.storage.database import Database
from domain.events import CalendarEvents
from domain.notices.templates import NoticeConfig
from domain.notices.reports import NoticeReports
from domain.notices.statuses import NoticeStatuses
from domain.workers.outbox import NoticeOutbox
from domain.calendar.pending_confirmations import PendingConfirmations
from domain.search.service import PhoneSearchService
from domain.notices.reminders import DayBeforeReminders
from domain.notices.replies import ReminderReplies
from domain.calendar.reservations import ReservationService
from domain.system_agent.effects import EffectLimits
from domain.system_agent.batch import SystemAgentBatchService
from domain.system_agent.queries import SystemAgentQueryService
from domain.system_agent.dashboard import DashboardService
from domain.system_agent.recall import RecallService
from domain.calendar.vacations import VacationService
from domain.waitlist.rules import WaitlistConfig
from domain.waitlist.service import WaitlistService
from domain.staff.accounts import StaffAccounts
from domain.staff.audit import AuditLog
from domain.staff.sessions import StaffSessions


@dataclass(frozen=True)
class Services:
    """The domain services over one database."""

    config: ClinicConfig
    db: Database
    clock: Clock
    customers: CustomerService
    search: PhoneSearchService
    reservations: ReservationService
    availability: AvailabilityService
    conversations: ConversationService
    vacations: VacationService
    events: CalendarEvents
    batch: SystemAgentBatchService
    queries: SystemAgentQueryService
    recall: RecallService
    dashboard: DashboardService
    confirmations: PendingConfirmations
    outbox: NoticeOutbox
    notice_statuses: NoticeStatuses
    notice_reports: NoticeReports
    reminders: DayBeforeReminders
    reminder_replies: ReminderReplies
    waitlist: WaitlistService
    attendance: AttendanceService
    audit: AuditLog
    staff: StaffAccounts
    sessions: StaffSessions


def build_services(
    config: ClinicConfig, db: Database, clock: Clock = system_clock, *, limits: EffectLimits | None = None,
    confirmation_secret: bytes | None = None, notices: NoticeConfig | None = None,
    waitlist: WaitlistConfig | None = None,
) -> Services:
    events = CalendarEvents()
    notices = replace(notices or NoticeConfig(), zone=config.zone)  # quiet hours are the clinic's
    customers = CustomerService(db, config)
    search = PhoneSearchService(db, config)
    audit = AuditLog(db, config, clock)
    reservations = ReservationService(db, config, clock, events, audit)
    return Services(
        config=config,
        db=db,
        clock=clock,
        customers=customers,
        search=search,
        reservations=reservations,
        availability=AvailabilityService(db, config, clock),
        conversations=ConversationService(db, config, clock),
        vacations=VacationService(db),
        events=events,
        batch=SystemAgentBatchService(db, config, clock, search, limits, events=events,
                                      token_secret=confirmation_secret, notices=notices, audit=audit),
        queries=SystemAgentQueryService(db, config, clock, search),
        recall=RecallService(db, config, clock),
        dashboard=DashboardService(db, config, clock),
        confirmations=PendingConfirmations(db, clock),
        outbox=NoticeOutbox(db, config, notices, clock),
        notice_statuses=NoticeStatuses(db, config, clock),
        notice_reports=NoticeReports(db, config),
        reminders=DayBeforeReminders(db, config, notices, clock),
        reminder_replies=ReminderReplies(db, config, notices, reservations, AttendanceService(db, config, clock),
                                         clock),
        waitlist=WaitlistService(db, config, notices, waitlist or WaitlistConfig(), reservations, clock),
        attendance=AttendanceService(db, config, clock),
        audit=audit,
        staff=StaffAccounts(db, config, audit, clock),
        sessions=StaffSessions(db, audit, clock),
    )


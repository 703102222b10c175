"""The outbox's sender: sends the stored notices (`domain.notices.outbox`) to WhatsApp at the configured rate, and queues
the reminders when their time comes. A notice goes as free text (with reply buttons, an interactive message) inside
the customer's 24-hour window, else as its approved template (with its quick-reply buttons' payloads).

One sender runs in every instance; the rows are claimed, so instances share the work and never send the same
notice. Messages go out at `rate_per_second` (aiolimiter's leaky bucket), a few at a time, each only after
its start is recorded (`NoticeOutbox.attempt`). A throughput refusal (HTTP 429, Graph's rate and pair-limit
codes) pauses this sender for what WhatsApp asked (or a backoff) and puts the notice back without spending an
attempt; another transient failure (5xx, no connection) retries that notice with exponential backoff; a
request whose answer was lost leaves the notice `unsure` (its status will settle it); anything else fails it,
visibly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time

from aiolimiter import AsyncLimiter

from chat_bridge.events import new_message_event, notice_event
from chat_bridge.ports import EventSink
from chat_bridge.whatsapp import Template, WhatsAppClient, WhatsAppError
from domain.notices.outbox import Settled
from domain.workers.outbox import ClaimedNotice, NoticeOutbox
from domain.notices.reminders import DayBeforeReminders

logger = logging.getLogger(__name__)

THROTTLE_CODES = frozenset({4, 80007, 130429, 131056})
IN_FLIGHT = 8  # sends awaiting WhatsApp's answer at once
# Notices claimed at once: about a second's worth at the configured rate, within these bounds. What WhatsApp
# took is settled in one transaction per claim (a notice taken but not yet settled when the process dies is
# settled by its status after the restart; until then it is `unsure`).
CLAIM_MIN, CLAIM_MAX = 8, 64
REMINDER_CHECK_SECONDS = 30.0


class NoticeSender:
    """Claims and sends notices until closed."""

    def __init__(self, outbox: NoticeOutbox, reminders: DayBeforeReminders, whatsapp: WhatsAppClient,
                 events: EventSink, *, poll_seconds: float = 1.0) -> None:
        self.outbox, self.reminders, self.whatsapp, self.events = outbox, reminders, whatsapp, events
        self.poll_seconds = poll_seconds
        rate = outbox.config.rate_per_second
        # At most `rate` sends in any second, in bursts no larger than IN_FLIGHT when the rate allows.
        self.limiter = AsyncLimiter(max(1.0, min(rate, IN_FLIGHT)), max(1.0, min(rate, IN_FLIGHT)) / rate)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}:notices"
        self.task: asyncio.Task[None] | None = None
        self.sending: set[asyncio.Task[None]] = set()
        self.slots = asyncio.Semaphore(IN_FLIGHT)
        self.paused_until = 0.0  # monotonic time before which nothing is sent (WhatsApp said slow down)
        self.stopping = False
        self._wakeup = asyncio.Event()
        self._reminders_checked = 0.0
        self.idle = False  # no WhatsApp account: nothing is sent and no reminder queued

    def start(self) -> None:
        """Send from now on; without a WhatsApp account nothing is claimed (batches' notices wait, queued) and
        no reminder is queued."""
        if not self.whatsapp.account.configured:
            logger.warning("WhatsApp is not configured: notices stay queued until WHATSAPP_PHONE_NUMBER_ID and "
                           "WHATSAPP_ACCESS_TOKEN are set")
            self.idle = True
        self.task = asyncio.create_task(self._run(), name="notice sender")

    def wake(self) -> None:
        """Notices were queued by this process: send them now rather than at the next poll."""
        self._wakeup.set()

    def wake_for(self, count: int) -> None:
        if count:
            self.wake()

    async def is_running(self) -> bool:
        return self.task is not None and not self.task.done() and not self.stopping

    async def close(self, grace: float = 10.0) -> None:
        """Stop claiming; let the sends in flight finish (within `grace`), give back what was claimed and never
        begun (a send still out after `grace` is settled by its status, else becomes unsure)."""
        self.stopping = True
        self._wakeup.set()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self.task), grace)
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await self.task
        if self.sending:
            await asyncio.wait(self.sending, timeout=grace)
        with contextlib.suppress(Exception):
            await self.outbox.release(self.worker)

    async def _run(self) -> None:
        while not self.stopping:
            try:
                busy = await self._round()
            except Exception:
                logger.exception("the notice sender's round failed; trying again")
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self.poll_seconds)
                self._wakeup.clear()

    async def _round(self) -> bool:
        """Queue due reminders, then claim and send what is ready; whether anything was claimed."""
        if self.idle:
            return False
        if time.monotonic() - self._reminders_checked >= REMINDER_CHECK_SECONDS:
            self._reminders_checked = time.monotonic()
            if queued := await self.reminders.queue():
                logger.info("queued %d reminders", queued)
        await self._respect_pause()
        claim = max(CLAIM_MIN, min(CLAIM_MAX, int(self.outbox.config.rate_per_second)))
        claimed, settled = await self.outbox.claim(self.worker, claim)
        for done in settled:
            logger.info("notice %d not sent: %s", done.notice_id, done.status)
            await self.publish(done)
        taken: list[tuple[int, str]] = []
        for notice in claimed:
            if self.stopping:
                break
            await self.slots.acquire()
            await self._respect_pause()  # a refusal while this claim is being sent holds the rest too
            await self.limiter.acquire()
            task = asyncio.create_task(self._send(notice, taken))
            self.sending.add(task)
            task.add_done_callback(self.sending.discard)
        if self.sending:  # claim the next ones only once these are settled: a pause applies to them
            await asyncio.wait(set(self.sending))
        if taken:
            for done in await self.outbox.sent_many(taken):
                await self.publish(done)
        return bool(claimed or settled)

    async def _respect_pause(self) -> None:
        if (wait := self.paused_until - time.monotonic()) > 0:
            await asyncio.sleep(wait)

    async def publish(self, settled: Settled) -> None:
        if settled.message is not None:
            await self.events.publish(new_message_event(settled.message))
        await self.events.publish(notice_event(settled.notice_id, settled.batch_id, settled.status))

    async def _send(self, notice: ClaimedNotice, taken: list[tuple[int, str]]) -> None:
        """Send one notice once its start is recorded: WhatsApp's id joins `taken` (settled with the claim's
        others); a refusal is settled at once."""
        try:
            if not await self.outbox.attempt(notice.id, self.worker):
                logger.warning("notice %d is no longer this sender's (its lease ran out): not sent", notice.id)
                return
            outcome = await self._attempt(notice)
            if isinstance(outcome, str):
                taken.append((notice.id, outcome))
            else:
                await self.publish(outcome)
        except Exception:
            logger.exception("notice %d could not be settled; once its lease ends it is taken back (unsure if its send "
                             "began)", notice.id)
        finally:
            self.slots.release()

    async def _attempt(self, notice: ClaimedNotice) -> str | Settled:
        """WhatsApp's id of the message, or the notice as settled after a refusal or a lost answer."""
        try:
            if notice.template is None and notice.buttons:
                return await self.whatsapp.send_buttons(notice.wa_id, notice.text,
                                                        [(b.payload, b.title) for b in notice.buttons],
                                                        notice.callback_data)
            if notice.template is None:
                return (await self.whatsapp.send_text(notice.wa_id, notice.text, notice.callback_data))[0]
            template = Template(notice.template, notice.language, notice.parameters,
                                tuple(b.payload for b in notice.buttons))
            return await self.whatsapp.send_template(notice.wa_id, template, notice.callback_data)
        except WhatsAppError as error:
            return await self._refused(notice, error)

    async def _refused(self, notice: ClaimedNotice, error: WhatsAppError) -> Settled:
        if error.maybe_taken:  # sending it again could deliver it twice: its status, or an operator, decides
            logger.warning("notice %d may have reached WhatsApp: unsure (%s)", notice.id, error)
            return await self.outbox.unsure(notice.id, self.worker, str(error))
        if not error.retryable:
            logger.warning("notice %d refused for good: %s", notice.id, error)
            return await self.outbox.failed(notice.id, self.worker, str(error), error.code)
        delay = self.outbox.backoff(notice.attempts, error.retry_after)
        throttled = error.status == 429 or error.code in THROTTLE_CODES
        if throttled:
            self.paused_until = max(self.paused_until, time.monotonic() + delay)
        logger.info("notice %d: WhatsApp asked to try later (%s); again in %.1f s", notice.id, error, delay)
        return await self.outbox.retry(notice.id, self.worker, str(error), error.code, delay, counts=not throttled)

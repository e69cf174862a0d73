"""The alert dispatcher: drains the outbox through the channels, with retries and silences.

Alert rows are written by the incidents module inside the incident's own transaction. This task
claims the due ones, marks them `sending` before the send (so a crash mid-send is visible at the
next start), delivers them and records every attempt. Sends for one incident on one channel are
serialised, so an incident never gets two Slack threads; each channel has at most
`max_in_flight_per_channel` sends in flight, which bounds the repeats a crash can cause.

The task sleeps until something can be sent: a row written on the store's connection wakes it
(`tx.outbox.watch`), so does a finished send, and otherwise it wakes when the earliest group wait
or backoff ends; `poll_interval` is only the fallback for rows other processes write.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.alerting import digest, outbox
from monitor.alerting.channels.base import Channel
from monitor.alerting.outbox import AlertRow
from monitor.alerting.routing import Router
from monitor.alerting.silences import matching_silence
from monitor.clock import Clock, iso
from monitor.records import AlertLinks, AlertMessage, Delivery, Incident, Mention
from monitor.store import Store, Tx, bucket_start

log = logging.getLogger(__name__)
TOP_MENTIONS = 5
CURVE_BUCKET_SECONDS = 300
CURVE_BUCKETS = 24


# -- reading an incident and its evidence ---------------------------------------------------


def mention_curve(
    tx: Tx, incident_id: int, now: datetime, buckets: int = CURVE_BUCKETS
) -> list[tuple[datetime, int]]:
    """Mentions per 5-minute bucket for the incident's latest `buckets` buckets, oldest first."""
    times = [t for t in tx.incidents.mention_times(incident_id) if t <= now]
    if not times:
        return []
    last = bucket_start(max(times), CURVE_BUCKET_SECONDS)
    first = max(
        bucket_start(min(times), CURVE_BUCKET_SECONDS),
        last - timedelta(seconds=CURVE_BUCKET_SECONDS * (buckets - 1)),
    )
    counts: dict[datetime, int] = {}
    for t in times:
        b = bucket_start(t, CURVE_BUCKET_SECONDS)
        if b >= first:
            counts[b] = counts.get(b, 0) + 1
    out = []
    at = first
    while at <= last:
        out.append((at, counts.get(at, 0)))
        at += timedelta(seconds=CURVE_BUCKET_SECONDS)
    return out


@dataclass(slots=True)
class _Work:
    """What one send needs, read in one go on the store thread."""

    incident: Incident | None
    mentions: list[Mention] = field(default_factory=list)
    curve: list[tuple[datetime, int]] = field(default_factory=list)
    thread_ref: str | None = None
    silence: str | None = None
    delivered_before: bool = False


def _read_work(tx: Tx, incident_id: int | None, channel: str, now: datetime) -> _Work:
    if incident_id is None:
        return _Work(incident=None)
    incident = tx.incidents.get(incident_id)
    if incident is None:
        return _Work(incident=None)
    silence = matching_silence(tx, incident, now)
    if silence is not None:
        return _Work(
            incident=incident,
            silence=f"silenced by silence {silence.id} until {iso(silence.ends_at)}: "
            f"{silence.reason}",
        )
    return _Work(
        incident=incident,
        mentions=tx.incidents.most_engaged(incident_id, TOP_MENTIONS),
        curve=mention_curve(tx, incident_id, now),
        thread_ref=tx.outbox.thread_ref(incident_id, channel),
        delivered_before=tx.outbox.delivered_before(incident_id, channel),
    )


def primary_row(rows: list[AlertRow], delivered_before: bool) -> AlertRow:
    """Which of several due rows for one incident and channel the single message speaks for.

    The newest change, except that the first message about an incident says "opened" even when
    its severity rose during the group wait.
    """
    newest = rows[-1]
    if not delivered_before and newest.reason in ("escalated", "reminder"):
        for row in rows:
            if row.reason == "opened":
                return row
    return newest


# -- the dispatcher --------------------------------------------------------------------------


class AlertDispatcher:
    """Delivers due outbox rows through their channels; one asyncio task."""

    def __init__(
        self,
        store: Store,
        router: Router,
        channels: Mapping[str, Channel],
        *,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.router = router
        self.settings = router.alerting
        self.channels = dict(channels)
        self.clock = clock
        self._rng = rng or random.Random()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._sends: set[asyncio.Task[None]] = set()  # held so they are not collected mid-send
        self._unwatch: Callable[[], None] | None = None
        self._stranded: list[int] = []  # ids of rows whose outcome the store could not record
        self._stopping = False
        self.sent = 0
        self.failed = 0
        # Told of each outcome ("sent", "retry", "failed") per channel, for metrics.
        self.on_outcome: Callable[[str, str], None] | None = None
        # Set by the dashboard ([web]): the links each incident alert carries.
        self.links: Callable[[Incident], AlertLinks | None] | None = None
        # The daemon's name among several sharing a PostgreSQL database: its claimed rows go
        # back to pending if it dies (None alone on a database).
        self.holder: str | None = None

    def use(self, router: Router, channels: Mapping[str, Channel]) -> None:
        """Route and send with a reloaded config from the next round on; rows stay queued."""
        self.router = router
        self.settings = router.alerting
        self.channels = dict(channels)
        self._wake.set()

    async def recover(self) -> int:
        """Put rows a crash left `sending` back to pending; returns how many."""
        count = await self.store.transaction(lambda tx: tx.outbox.release_in_flight())
        if count:
            log.warning(
                "%d alert(s) were being sent when the daemon stopped; sending them again "
                "(receivers can drop a repeat by its idempotency key)",
                count,
            )
        return count

    async def start(self) -> None:
        """Recover interrupted sends, watch the outbox for new rows and start the loop."""
        if self._task is not None:
            return
        loop = asyncio.get_running_loop()

        def wake_from_store() -> None:
            # Runs on the store thread inside the writing transaction; the claim that follows
            # queues behind that transaction on the same thread, so it sees the committed row.
            try:
                loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:  # the loop has closed: nothing waits for the wake-up any more
                pass

        self._unwatch = await self.store.read(lambda tx: tx.outbox.watch(wake_from_store))
        await self.recover()
        self._stopping = False
        self._idle.clear()
        self._task = asyncio.create_task(self._loop(), name="alert-dispatcher")

    def wake(self) -> None:
        """Look for due alerts now instead of at the next poll."""
        self._wake.set()

    async def wait_idle(self) -> None:
        """Return once the running loop has nothing due to send and no send in flight."""
        await self._idle.wait()

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a shutdown budget
        """Finish in-flight sends (up to `timeout` seconds), then stop; safe to call twice."""
        self._stopping = True
        self._wake.set()
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, timeout)
            except TimeoutError:
                # The sends were cancelled; their rows stay `sending` and are re-sent at the
                # next start (at most max_in_flight_per_channel repeats per channel).
                log.warning("alert dispatcher did not finish within %gs; stopped it", timeout)
        for channel in self.channels.values():
            await channel.close()

    async def _loop(self) -> None:
        try:
            await self._rounds()
            if self._sends:
                await asyncio.gather(*self._sends, return_exceptions=True)  # stopping: finish them
        except asyncio.CancelledError:
            # stop() ran out of time: abandon the sends; their rows stay `sending` and go out
            # again at the next start.
            for send in self._sends:
                send.cancel()
            raise

    async def _rounds(self) -> None:
        """Claim and start sends until stopped, sleeping while nothing can be sent."""
        while not self._stopping:
            self._wake.clear()  # before claiming, so a row written meanwhile is not missed
            try:
                claim = await self._claim()
            except Exception:
                log.exception("alert dispatcher failed a round; trying again shortly")
                claim = outbox.Claim(groups=[], next_due=None)
            for group in claim.groups:
                send = asyncio.create_task(self._deliver_group(group))
                self._sends.add(send)
                send.add_done_callback(self._send_done)
            if claim.groups:
                continue  # more may be due on channels with free slots
            if not self._sends:
                self._idle.set()
            try:
                await asyncio.wait_for(self._wake.wait(), self._sleep_seconds(claim.next_due))
            except TimeoutError:
                pass
            self._idle.clear()

    def _send_done(self, send: asyncio.Task[None]) -> None:
        self._sends.discard(send)
        self._wake.set()  # a slot is free, and rows waiting for this incident may go now
        if not send.cancelled() and send.exception() is not None:
            log.error("alert send task failed", exc_info=send.exception())

    def _sleep_seconds(self, next_due: datetime | None) -> float:
        """Until the next group wait or backoff ends, at most the fallback poll interval."""
        wait = self.settings.poll_interval
        if next_due is not None:
            # A millisecond more, so the claim's clock reading is past `next_due` for sure.
            until = (next_due - self.clock.now()).total_seconds() + 0.001
            wait = min(wait, max(until, 0.0))
        return wait

    async def _claim(self, limit: int = 100) -> outbox.Claim:
        if self._stranded:
            stranded = list(self._stranded)
            await self.store.transaction(lambda tx: tx.outbox.release_rows(stranded))
            del self._stranded[: len(stranded)]
        now = self.clock.now()
        per_channel = self.settings.max_in_flight_per_channel
        return await self.store.transaction(
            outbox.claim_due, now, per_channel, limit, self.holder
        )

    async def run_once(self, limit: int = 100) -> int:
        """Claim due rows and deliver them; returns how many rows were handled."""
        claim = await self._claim(limit)
        await asyncio.gather(*(self._deliver_group(group) for group in claim.groups))
        return claim.rows

    async def _deliver_group(self, rows: list[AlertRow]) -> None:
        try:
            await self._deliver(rows)
        except Exception as exc:
            # A bug or a store problem: keep the rows retryable rather than stuck `sending`.
            log.exception("could not process alert(s) %s", [r.id for r in rows])
            now = self.clock.now()
            detail = f"internal error while sending: {type(exc).__name__}: {exc}"
            try:
                await self.store.transaction(self._record_failure, rows, now, detail, True, None)
            except Exception:
                # The store refused this too. Rows left `sending` would hold one of the
                # channel's slots until a restart: the next round puts them back to pending.
                log.exception("could not record the failure of alert(s) %s", [r.id for r in rows])
                self._stranded.extend(r.id for r in rows)

    async def _deliver(self, rows: list[AlertRow]) -> None:
        if rows[0].reason == digest.REASON:
            # Digest rows have no incident, so each one is a group of its own.
            await self._deliver_digest(rows[0])
            return
        channel_name = rows[0].channel
        now = self.clock.now()
        work = await self.store.read(_read_work, rows[0].incident_id, channel_name, now)
        if work.incident is None:
            await self.store.transaction(
                self._record_failure, rows, now,
                "the incident no longer exists (deleted or pruned); nothing to send", False, None,
            )
            return
        if work.silence is not None:
            silence_detail = work.silence

            def silence_all(tx: Tx) -> None:
                for row in rows:
                    tx.outbox.mark_silenced(row.id, silence_detail)

            await self.store.transaction(silence_all)
            log.info("alert(s) %s for incident %s %s", [r.id for r in rows],
                     work.incident.id, work.silence)
            return
        quiet = self.router.quiet_until(work.incident, channel_name, now)
        if quiet is not None:
            why = f"quiet hours: held until {iso(quiet)}"

            def hold_all(tx: Tx) -> None:
                for row in rows:
                    tx.outbox.postpone(row.id, quiet, why)

            await self.store.transaction(hold_all)
            return
        channel = await self._channel(channel_name, rows, now)
        if channel is None:
            return
        primary = primary_row(rows, work.delivered_before)
        message = AlertMessage(
            alert_id=primary.id,
            idempotency_key=primary.idempotency_key,
            reason=primary.reason,
            incident=work.incident,
            top_mentions=work.mentions,
            curve=work.curve,
            created_at=primary.created_at,
            links=self.links(work.incident) if self.links else None,
        )
        await self._send(channel, message, rows, primary, work.thread_ref)

    async def _deliver_digest(self, row: AlertRow) -> None:
        now = self.clock.now()
        found = await self.store.read(digest.read_digest, row.idempotency_key, now)
        if found is None or not found.incidents:
            if found is not None and found.muted:
                detail = f"every incident in this digest ({found.muted}) is silenced"
                await self.store.transaction(lambda tx: tx.outbox.mark_silenced(row.id, detail))
                log.info("digest alert %d: %s", row.id, detail)
                return
            await self.store.transaction(
                self._record_failure, [row], now,
                "the digest's incidents no longer exist (deleted or pruned); nothing to send",
                False, None,
            )
            return
        quiet = self.router.digest_quiet_until(found.route, now)
        if quiet is not None:
            why = f"quiet hours: held until {iso(quiet)}"
            await self.store.transaction(lambda tx: tx.outbox.postpone(row.id, quiet, why))
            return
        channel = await self._channel(row.channel, [row], now)
        if channel is None:
            return
        message = AlertMessage(
            alert_id=row.id,
            idempotency_key=row.idempotency_key,
            reason=row.reason,
            incident=found.incidents[0],
            created_at=row.created_at,
            digest=found,
        )
        await self._send(channel, message, [row], row, None)

    async def _channel(self, name: str, rows: list[AlertRow], now: datetime) -> Channel | None:
        """The named channel, or None after failing the rows because it is gone from config."""
        channel = self.channels.get(name)
        if channel is None:
            await self.store.transaction(
                self._record_failure, rows, now,
                f"channel {name!r} is not configured any more; add it back to "
                "[[channels]] and run `brand-monitor alerts retry ID`", False, None,
            )
        return channel

    async def _send(
        self,
        channel: Channel,
        message: AlertMessage,
        rows: list[AlertRow],
        primary: AlertRow,
        thread_ref: str | None,
    ) -> None:
        """Send one message speaking for `rows` and record the outcome on every row."""
        channel_name = primary.channel
        try:
            delivery = await channel.send(message, thread_ref=thread_ref)
        except Exception as exc:  # the contract says channels never raise; be safe anyway
            log.exception("channel %s raised instead of returning a Delivery", channel_name)
            delivery = Delivery(channel_name, False, f"channel error: {type(exc).__name__}: {exc}")
        done = self.clock.now()
        if delivery.ok:
            self.sent += 1
            self._outcome(channel_name, "sent", len(rows))
            log.info(
                "alert %d sent: incident #%s %s via %s%s", primary.id, primary.incident_id,
                primary.reason, channel_name,
                f" (with {len(rows) - 1} grouped)" if len(rows) > 1 else "",
            )

            def confirm(tx: Tx) -> None:
                tx.outbox.mark_sent(primary.id, done, delivery.detail, delivery.external_ref)
                for row in rows:
                    if row.id != primary.id:
                        tx.outbox.mark_merged(row.id, primary.id, done, delivery.external_ref)

            await self.store.transaction(confirm)
            return
        await self.store.transaction(
            self._record_failure, rows, done, delivery.detail, delivery.retryable,
            delivery.retry_after,
        )

    def backoff(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds before the next attempt: doubling from retry_initial to retry_max, jittered."""
        base = min(
            self.settings.retry_max, self.settings.retry_initial * 2 ** max(attempts - 1, 0)
        )
        # Jitter spreads retries of many alerts so a recovering receiver is not hit at once.
        delay: float = base * self._rng.uniform(0.5, 1.0)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def _record_failure(
        self,
        tx: Tx,
        rows: list[AlertRow],
        now: datetime,
        detail: str,
        retryable: bool,
        retry_after: float | None,
    ) -> None:
        give_up = timedelta(seconds=self.settings.give_up_after)
        for row in rows:
            if not retryable:
                tx.outbox.mark_failed(row.id, now, detail)
                self.failed += 1
                self._outcome(row.channel, "failed")
                log.warning("alert %d for incident #%s via %s failed: %s", row.id,
                            row.incident_id, row.channel, detail)
            elif now - row.give_up_from() >= give_up:
                tx.outbox.mark_failed(
                    row.id, now,
                    f"{detail} (gave up after {row.attempts} attempts over "
                    f"{self.settings.give_up_after / 3600:g}h; "
                    f"retry with `brand-monitor alerts retry {row.id}`)",
                )
                self.failed += 1
                self._outcome(row.channel, "failed")
                log.warning("alert %d for incident #%s via %s: gave up after %d attempts: %s",
                            row.id, row.incident_id, row.channel, row.attempts, detail)
            else:
                wait = self.backoff(row.attempts, retry_after)
                tx.outbox.mark_retry(row.id, now, detail, now + timedelta(seconds=wait))
                self._outcome(row.channel, "retry")
                log.info("alert %d for incident #%s via %s not delivered (%s); retrying in %.0fs",
                         row.id, row.incident_id, row.channel, detail, wait)

    def _outcome(self, channel: str, outcome: str, count: int = 1) -> None:
        if self.on_outcome is not None:
            for _ in range(count):
                self.on_outcome(channel, outcome)


# -- periodic checks: reminders, escalation and digests ----------------------------------------


def _enqueue_due(tx: Tx, router: Router, now: datetime) -> list[int]:
    created: list[int] = []
    escalation_after = router.alerting.escalation_after
    for incident in tx.incidents.open_unacknowledged():
        if router.digest_only(incident):
            continue  # its routes chose the digest: no reminders, no escalation
        interval = router.alerting.repeat_interval.for_severity(incident.severity)
        if interval is not None:
            last = tx.outbox.last_created_at(incident.id) or incident.opened_at
            if last is not None and (now - last).total_seconds() >= interval:
                channels = router.route(incident, "reminder")
                if channels:
                    created += outbox.enqueue_alert(
                        tx, incident_id=incident.id, reason="reminder",
                        severity=incident.severity, channels=channels, now=now,
                    )
        if escalation_after is not None and incident.severity == "critical":
            start = tx.outbox.first_created_at(incident.id, "critical") or incident.opened_at
            if start is not None and (now - start).total_seconds() >= escalation_after:
                # A fixed key: the store inserts a key once, so the escalation happens once.
                created += tx.outbox.insert(
                    incident_id=incident.id,
                    key=f"{outbox.idempotency_key(incident.id, 'escalated', 'critical')}:page",
                    reason="escalated", severity="critical",
                    channels=router.escalation_channels(), now=now, not_before=now,
                )
    created += digest.enqueue_due(tx, router, now)
    return created


async def due_reminders(store: Store, router: Router, now: datetime) -> list[int]:
    """Enqueue reminders, escalations and digests that are due (the daemon calls this each minute).

    Reminders: open, unacknowledged incidents whose newest alert is older than the severity's
    repeat interval. Escalation: critical incidents unacknowledged for `escalation_after` since
    they became critical are sent once to `escalation_channels`. Neither applies to incidents
    that only digest routes match. Digests: one per digest route and ended period with
    something to list (`monitor.alerting.digest`). Returns the new row ids.
    """
    return await store.transaction(_enqueue_due, router, now)

"""Virtual time: runs a Service's periodic jobs in order, as fast as the machine allows.

The live daemon runs its jobs from APScheduler on the wall clock; replay, backtest and the demo
start the same Service with `realtime=False` and let this driver call the same jobs (source
polls, engagement refresh, scoring, detection tick, reminders, alert delivery) minute by minute
on a `VirtualClock`. Nothing else differs, so what replay reports is what the daemon would do.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from monitor.clock import VirtualClock
from monitor.service import Service

log = logging.getLogger(__name__)
STEP = 60.0  # seconds; the live detection/reminder job runs every 60 s too


class VirtualDriver:
    """Advances a non-realtime Service through virtual time in fixed steps."""

    def __init__(
        self, service: Service, clock: VirtualClock, *, deliver: bool = True, step: float = STEP
    ) -> None:
        self.service = service
        self.clock = clock
        self.deliver = deliver
        self.step_seconds = step
        self._next_poll: dict[str, datetime] = {}
        self._next_refresh: dict[str, datetime] = {}
        self.steps = 0

    async def step(self, *, fed: bool = True) -> None:
        """Run every job that is due at the current virtual time, in the live order.

        The periodic detection job is skipped between 5-minute marks when nothing arrived
        (`fed` False, no poll due) and no incident is active: it would find nothing to do
        (volume buckets close on the marks; reminders, re-assessment and auto-resolve concern
        active incidents only). That keeps a quiet week of replay from costing 10,000 no-ops.
        """
        now = self.clock.now()
        service = self.service
        for name, runner in service.runners.items():
            interval = runner.source.interval or runner.connector.default_interval
            if self._next_poll.get(name, now) <= now:
                fed = True
                await runner.poll()
                self._next_poll[name] = now + timedelta(seconds=interval)
            if runner.connector.supports_refresh:
                # As live: the first refresh comes one interval after start, not with the poll.
                every = timedelta(seconds=service.config.engagement.refresh_interval)
                if self._next_refresh.setdefault(name, now + every) <= now:
                    await runner.refresh()
                    self._next_refresh[name] = now + every
        scored = await service.scoring.flush()
        mark = now.minute % 5 == 0 and now.second == 0
        if fed or scored or mark or service.detection.active:
            await service.remind()
        if self.deliver:
            while await service.dispatcher.run_once():
                pass
        self.steps += 1

    async def run_until(
        self, end: datetime, before_step: Callable[[datetime], Awaitable[bool]] | None = None
    ) -> None:
        """Step until the clock reaches `end`; `before_step(now)` feeds input for each step and
        says whether it fed anything."""
        while self.clock.now() < end:
            self.clock.advance(self.step_seconds)
            fed = await before_step(self.clock.now()) if before_step is not None else True
            await self.step(fed=fed)

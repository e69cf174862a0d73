"""A dispatcher process for the crash test: `python -m tests.alerting.crash_dispatcher DB URL`."""

from __future__ import annotations

import asyncio
import sys

from monitor.alerting.channels.webhook import WebhookChannel
from monitor.alerting.config import AlertingConfig
from monitor.alerting.dispatcher import AlertDispatcher
from monitor.alerting.routing import AlertPlan, Router
from monitor.alerting.settings import WebhookSettings
from monitor.clock import SystemClock
from monitor.configtypes import EnvSecret
from monitor.store import Store
from tests.alerting.dispatch_support import HOOK_SECRET_ENV


async def main(db_path: str, url: str) -> None:
    store = await Store(db_path).open()
    settings = WebhookSettings(
        kind="webhook", name="hook", url=url, secret=EnvSecret(env=HOOK_SECRET_ENV), timeout=60
    )
    plan = AlertPlan(alerting=AlertingConfig(poll_interval=0.05), channels=[settings])
    clock = SystemClock()
    dispatcher = AlertDispatcher(
        store, Router(plan), {"hook": WebhookChannel(settings, clock=clock)}, clock=clock
    )
    await dispatcher.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await asyncio.Event().wait()  # runs until killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))

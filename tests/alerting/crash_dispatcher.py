"""A dispatcher process for crash tests.

`python -m tests.alerting.crash_dispatcher DB URL [URL ...] [--in-flight N]`: one webhook channel
per URL, named `hook`, `hook2`, `hook3` ...; prints "ready" once started and runs until killed.
"""

from __future__ import annotations

import argparse
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


def channel_name(index: int) -> str:
    """`hook` for the first URL, then `hook2`, `hook3` ..."""
    return "hook" if index == 0 else f"hook{index + 1}"


async def main(db_path: str, urls: list[str], in_flight: int) -> None:
    store = await Store(db_path).open()
    settings = [
        WebhookSettings(
            kind="webhook", name=channel_name(i), url=url, secret=EnvSecret(env=HOOK_SECRET_ENV),
            timeout=60,
        )
        for i, url in enumerate(urls)
    ]
    alerting = AlertingConfig(poll_interval=0.05, max_in_flight_per_channel=in_flight)
    plan = AlertPlan(alerting=alerting, channels=list(settings))
    clock = SystemClock()
    channels = {s.name: WebhookChannel(s, clock=clock) for s in settings}
    dispatcher = AlertDispatcher(store, Router(plan), channels, clock=clock)
    await dispatcher.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await asyncio.Event().wait()  # runs until killed


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--in-flight", type=int, default=AlertingConfig().max_in_flight_per_channel)
    args = parser.parse_args()
    asyncio.run(main(args.db, args.urls, args.in_flight))

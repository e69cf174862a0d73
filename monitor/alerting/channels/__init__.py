"""Alert channels: Slack, email, webhook and console, all behind the `Channel` contract."""

from monitor.alerting.channels.base import REGISTRY, Channel, build_channel, channel_class

__all__ = ["REGISTRY", "Channel", "build_channel", "channel_class"]

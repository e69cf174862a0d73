"""The dashboard: pages, their JSON API, login, signed alert links and Slack interactions."""

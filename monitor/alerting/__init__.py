"""Alerting: rendering an incident change and delivering it through channels."""

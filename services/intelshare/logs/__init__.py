"""Inspection of the services' JSON log events: read, filter, trace, summarise, report.

Imports contract (the event names) only; the demo's check reads logs through ``reader``.
"""

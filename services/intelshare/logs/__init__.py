"""Inspection of intelshare's JSON log events: read, filter, trace, summarise, report.

``reader`` turns files, directories, stdin and ``docker compose logs`` output into typed
:class:`~intelshare.logs.model.LogEvent` values; the other modules are plain functions over
those values, so they work the same on a captured file and on a live stream.
"""

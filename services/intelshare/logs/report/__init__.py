"""The HTML report of ``intelshare logs report``: gather in one pass, lay out, render with Jinja2.

``collect`` gathers the figures and the alerts, ``flow`` / ``latency`` / ``tables`` turn them
into what each part of the page draws, ``page`` renders the autoescaped templates.
"""

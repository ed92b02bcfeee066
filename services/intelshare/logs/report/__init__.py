"""The HTML page of ``intelshare logs report``: gathered in one pass, drawn by Jinja2 templates.

Imports the rest of logs (and through it contract's event names) only.
"""

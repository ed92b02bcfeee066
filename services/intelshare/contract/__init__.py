"""The contract between countries: schemas, codec, records, markings, event/header/topic names.

Imports nothing else of intelshare but its errors.
"""

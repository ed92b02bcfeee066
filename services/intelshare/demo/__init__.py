"""The whole network in one process, and the demo's own check of the rules.

Imports every service part (contract to consumer) and the log reader (logs.reader).
"""

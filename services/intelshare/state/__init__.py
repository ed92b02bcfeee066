"""A country's state: the facts it keeps on its compacted state topic, and their store.

Imports network (the state topic's name) and runtime (settings, Kafka clients).
"""

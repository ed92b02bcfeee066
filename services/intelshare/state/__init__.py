"""A country's state: the facts it keeps on its compacted state topic, and their store.

Imports contract and runtime.
"""

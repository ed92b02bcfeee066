"""The sending side: outbox (every write), publisher, consent and onward sharing, sources.

Imports contract, network, state and runtime.
"""

"""The receiving side: the consumer loop, the handlers per message schema and the inbox.

Imports contract, network, state, runtime and producer's outbox.
"""

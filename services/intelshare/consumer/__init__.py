"""The receiving side: the consumer loop, the handlers per message schema, inbox and proof.

Imports contract, network, state, runtime and producer (the outbox, consent and results).
"""

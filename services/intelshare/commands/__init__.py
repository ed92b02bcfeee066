"""Sub-commands of ``intelshare``, one module per area; each exposes ``register(app)``."""

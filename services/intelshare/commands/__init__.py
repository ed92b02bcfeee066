"""Sub-commands of ``intelshare``, one module per area; each exposes ``register(app)``.

May import every other part (it is the CLI's edge); only ``intelshare.cli`` imports it.
"""

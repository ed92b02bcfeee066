"""intelshare: a reference model of cross-border intelligence sharing over Apache Kafka."""

from __future__ import annotations

__version__ = "0.1.0"

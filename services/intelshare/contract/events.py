"""The audit events every service logs: stable names and the fields they carry.

Each event is one JSON object per line (structlog), and the same object is mirrored to the
audit topic (``intel.audit``) so an exercise controller (``intelshare replay``) sees exactly
what the logs say. ``intelshare logs`` reads these lines back. The names are a contract:
tools, tests and dashboards match on them.

Fields every event carries:

``timestamp``  ISO-8601 UTC with milliseconds and ``Z`` (``2026-11-28T09:00:00.123Z``)
``level``      ``info`` / ``warning`` / ``error``
``event``      one of the names below
``service``    ``producer`` or ``consumer``
``country``    the country whose service logged it (ISO 3166-1 alpha-2, Kosovo ``XK``)

Fields an event carries when they apply (absent otherwise, never ``null`` placeholders):

``alert_id``, ``revision``, ``message_type`` (``ALERT``/``UPDATE``/``REVOCATION``),
``case_id``, ``originator`` (country), ``recipient`` (country), ``category``, ``priority``,
``tlp``, ``eu_handling`` (list), ``uk_handling``, ``topic``, ``partition``, ``offset``,
``trace_id``, ``latency_ms`` (float, end-to-end from the alert's ``created_at`` or the
receipt's time to this event), ``rule`` and ``reason`` (refusals), ``status`` (receipts),
``receipt_from`` (the recipient that answered), ``error`` and ``error_type`` (dead letters),
``due`` (ISO-8601, overdue receipts), ``hop_path`` (list of countries, onward sharing),
``consent_id``, ``scenario`` and ``step`` (when published by a replay).
"""

from __future__ import annotations

from typing import Any, Final, Protocol

# Producer side (the originator's national contact point).
ALERT_SENT: Final = "alert.sent"
"""One copy of an alert was written to a recipient's inbox (one event per recipient)."""
ALERT_REFUSED: Final = "alert.refused"
"""Policy refused an alert before sending (``rule``, ``reason``); nothing was written."""
CONSENT_REQUESTED: Final = "consent.requested"
"""A recipient asked the originator for consent to share onward."""
CONSENT_GRANTED: Final = "consent.granted"
"""The originator granted onward sharing."""
ALERT_SHARED_ONWARD: Final = "alert.shared_onward"
"""A recipient shared an alert onward under consent; ``hop_path`` records the hops."""

# Consumer side (the recipient's national contact point).
ALERT_RECEIVED: Final = "alert.received"
"""An alert (or an update) arrived, passed the checks and is in use."""
ALERT_REJECTED: Final = "alert.rejected"
"""An alert arrived but failed the policy re-check on arrival (``rule``, ``reason``)."""
ALERT_REVOKED: Final = "alert.revoked"
"""The originator revoked an alert; the recipient stopped using it."""
ALERT_DUPLICATE: Final = "alert.duplicate"
"""A redelivered alert (same id and revision) was suppressed."""
RECEIPT_SENT: Final = "receipt.sent"
"""The recipient answered an alert with a receipt (``status``)."""
RECEIPT_RECEIVED: Final = "receipt.received"
"""The originator got a receipt from a recipient (``receipt_from``, ``status``)."""
RECEIPT_OVERDUE: Final = "receipt.overdue"
"""A response was due and no receipt came in time (``recipient``, ``due``)."""
MESSAGE_DEADLETTERED: Final = "message.deadlettered"
"""A message could not be decoded or validated and went to the dead-letter topic."""

ALL_EVENTS: Final = frozenset(
    {
        ALERT_SENT,
        ALERT_REFUSED,
        CONSENT_REQUESTED,
        CONSENT_GRANTED,
        ALERT_SHARED_ONWARD,
        ALERT_RECEIVED,
        ALERT_REJECTED,
        ALERT_REVOKED,
        ALERT_DUPLICATE,
        RECEIPT_SENT,
        RECEIPT_RECEIVED,
        RECEIPT_OVERDUE,
        MESSAGE_DEADLETTERED,
    }
)

# The service's own life: logged, never mirrored to the audit topic (no partner needs them).
PRODUCER_STARTED: Final = "producer.started"
"""A producer is connected and starts reading its alert source (``source``, ``rate``)."""
PRODUCER_STOPPED: Final = "producer.stopped"
"""A producer finished its source or was stopped (``published``: alerts published)."""
CONSUMER_STARTED: Final = "consumer.started"
"""A consumer joined its group and is reading its inbox."""
CONSUMER_STOPPED: Final = "consumer.stopped"
"""A consumer stopped (``handled``: messages handled; with a crypto helper process,
``verified_ahead``: signatures it checked)."""
HELPER_FAILED: Final = "consumer.helper_failed"
"""A consumer's crypto helper process failed (``reason``); the consumer does its work itself."""
COMMIT_FAILED: Final = "commit.failed"
"""Committing a batch's offsets failed (``error``); the batch will be read again."""
BROKER_UNREACHABLE: Final = "broker.unreachable"
"""A client could not reach the broker yet and keeps trying."""
BROKER_REACHABLE: Final = "broker.reachable"
"""A client reached the broker after failed attempts."""
CONSENT_NOT_USED: Final = "consent.not_used"
"""A consent answer arrived that was not acted on (refused, or the alert is not held)."""
PRODUCER_READY: Final = "producer.ready"
"""A producer command connected and starts reading its source (``source``, ``rate``)."""
PRODUCER_DONE: Final = "producer.done"
"""A producer command finished its source or was stopped (``published``: alerts published)."""
KAFKA_CLIENT: Final = "kafka.client"
"""A Kafka client library's own warning (``logger``, ``message``), on standard error."""

SERVICE_EVENTS: Final = frozenset(
    {
        PRODUCER_STARTED,
        PRODUCER_STOPPED,
        CONSUMER_STARTED,
        CONSUMER_STOPPED,
        HELPER_FAILED,
        COMMIT_FAILED,
        BROKER_UNREACHABLE,
        BROKER_REACHABLE,
        CONSENT_NOT_USED,
        PRODUCER_READY,
        PRODUCER_DONE,
        KAFKA_CLIENT,
    }
)
"""Events about the service itself, beside the audit events of ``ALL_EVENTS``."""
LOGGED_EVENTS: Final = ALL_EVENTS | SERVICE_EVENTS
"""Every event name a service logs: what ``intelshare logs`` reads and filters on."""


class Placed(Protocol):
    """Anything that names one record's place in Kafka (aiokafka's records and metadata)."""

    @property
    def topic(self) -> str:
        """The topic."""
        ...

    @property
    def partition(self) -> int:
        """The partition."""
        ...

    @property
    def offset(self) -> int:
        """The offset."""
        ...


def place(record: Placed) -> dict[str, Any]:
    """The ``topic``, ``partition`` and ``offset`` fields of an event about one Kafka record."""
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}

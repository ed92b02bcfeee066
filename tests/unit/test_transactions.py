"""The consumer's per-batch transactions: lines after commit, consent writes in their own."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord, TopicPartition
from fake_outbox import (
    NOW,
    FakeCountry,
    FakeProducer,
    encode,
    fake_country,
    rs_receipt,
    signed_headers,
)

from intelshare.consumer.transactions import Transactions
from intelshare.contract.alerts import new_alert, to_millis
from intelshare.errors import BrokerUnavailable


@dataclass(kw_only=True)
class TxnProducer(FakeProducer):
    """A fake transactional producer: every call in order, sends only inside a transaction."""

    calls: list[str] = field(default_factory=list)
    fail_commit: bool = False

    async def begin_transaction(self) -> None:
        """Open a transaction (one at a time)."""
        assert not self.in_transaction, "a transaction is already open"
        self.in_transaction = True
        self.calls.append("begin")

    def taking(self, topic: str) -> None:
        """Record the write, which must belong to an open transaction."""
        assert self.in_transaction, f"a write to {topic} outside a transaction"
        self.calls.append(f"send {topic.split('.')[1]}")

    async def send_offsets_to_transaction(self, offsets: dict[Any, int], group: str) -> None:
        """Record the offsets the transaction commits."""
        self.calls.append(f"offsets {sorted(offsets.values())} {group}")

    async def commit_transaction(self) -> None:
        """Commit, or fail as the broker would."""
        if self.fail_commit:
            raise KafkaError("the coordinator is gone")
        self.in_transaction = False
        self.calls.append("commit")

    async def abort_transaction(self) -> None:
        """Abort the open transaction."""
        self.in_transaction = False
        self.calls.append("abort")


def country(code: str) -> tuple[FakeCountry, TxnProducer, Transactions]:
    """``code``'s handlers over a transactional fake, and the transactions around them."""
    fake = fake_country(code)
    producer = TxnProducer()
    fake.handlers.outbox.producer = producer  # type: ignore[assignment] # a fake stands in
    transactions = Transactions(
        producer=producer,  # type: ignore[arg-type] # a fake stands in for AIOKafkaProducer
        handlers=fake.handlers,
        log=fake.handlers.log,
        group="g",
        inbox=f"intel.alerts.{code}",
    )
    return fake, producer, transactions


def batch(receiver: str, kind: str, *values: bytes) -> dict[TopicPartition, list[Any]]:
    """One poll's records on partition 0 of ``receiver``'s inbox or receipts topic."""
    topic = f"intel.{'alerts' if kind == 'inbox' else 'receipts'}.{receiver}"
    records = [
        ConsumerRecord(
            topic=topic,
            partition=0,
            offset=offset,
            timestamp=0,
            timestamp_type=0,
            key=b"C1",
            value=value,
            checksum=None,
            serialized_key_size=2,
            serialized_value_size=len(value),
            headers=list(signed_headers(value, receiver).items()),
        )
        for offset, value in enumerate(values)
    ]
    return {TopicPartition(topic, 0): records}


def alert(alert_id: str) -> bytes:
    """A GB alert to RS, encoded."""
    record = new_alert(
        originator="GB",
        alert_id=alert_id,
        category="MODUS_OPERANDI",
        case_id="C1",
        summary="s",
        created_at=NOW - timedelta(minutes=1),
        recipients=["RS"],
    )
    return encode("Alert", record)


async def test_lines_are_written_only_once_the_batch_committed() -> None:
    """take() leaves the batch committing; its lines appear after begin, writes, offsets, commit."""
    rs, producer, transactions = country("RS")

    await transactions.take(
        batch("RS", "inbox", alert("GB-1"), alert("GB-2")), asyncio.Event(), overdue=False
    )
    assert rs.named("alert.received") == []
    await transactions.settled()

    assert [e["alert_id"] for e in rs.named("alert.received")] == ["GB-1", "GB-2"]
    assert len(rs.named("receipt.sent")) == 2
    assert producer.calls[0] == "begin"
    assert producer.calls[-2:] == ["offsets [2] g", "commit"]
    assert transactions.handled == 2


async def test_the_next_batch_is_handled_while_one_commits_and_commits_after_it() -> None:
    """Two batches: both handled, two transactions one after the other, every line once."""
    rs, producer, transactions = country("RS")

    await transactions.take(batch("RS", "inbox", alert("GB-1")), asyncio.Event(), overdue=False)
    await transactions.take(batch("RS", "inbox", alert("GB-2")), asyncio.Event(), overdue=False)
    await transactions.settled()

    assert producer.calls.count("begin") == producer.calls.count("commit") == 2
    assert [e["alert_id"] for e in rs.named("alert.received")] == ["GB-1", "GB-2"]


async def test_a_consent_request_after_a_receipt_is_answered_in_a_transaction_of_its_own() -> None:
    """The receipt's batch part commits first; the consent answer is written inside a new one."""
    gb, producer, transactions = country("GB")
    receipt = rs_receipt()
    request = {
        "consent_id": "MK-C-1",
        "alert_id": "GB-9",
        "revision": 1,
        "case_id": "C1",
        "originator": "GB",
        "requester": "MK",
        "onward_to": ["RS"],
        "hop_path": ["GB"],
        "reason": "route",
        "requested_at": to_millis(NOW),
    }
    records = batch("GB", "receipts", encode("Receipt", receipt), encode("ConsentRequest", request))

    await transactions.take(records, asyncio.Event(), overdue=False)
    await transactions.settled()

    first_commit = producer.calls.index("commit")
    assert producer.calls[: first_commit + 1] == ["begin", "send state", "offsets [1] g", "commit"]
    rest = producer.calls[first_commit + 1 :]
    assert rest[0] == "begin"
    assert "send alerts" in rest  # the answer to MK, written while its transaction was open
    assert rest[-2:] == ["offsets [2] g", "commit"]
    assert len(gb.named("receipt.received")) == 1


async def test_a_failed_commit_writes_no_line_and_is_raised() -> None:
    """The broker refusing the commit: abort, no alert.received, BrokerUnavailable raised."""
    rs, producer, transactions = country("RS")
    producer.fail_commit = True

    await transactions.take(batch("RS", "inbox", alert("GB-1")), asyncio.Event(), overdue=False)
    with pytest.raises(BrokerUnavailable, match="did not commit"):
        await transactions.settled()

    assert rs.named("alert.received") == []
    assert producer.calls[-1] == "abort"
    assert transactions.handled == 0


async def test_once_stopped_the_message_in_hand_is_finished_and_the_rest_left() -> None:
    """With stop set, one message is handled and committed; the offsets say where to go on."""
    rs, producer, transactions = country("RS")
    stop = asyncio.Event()
    stop.set()

    await transactions.take(batch("RS", "inbox", alert("GB-1"), alert("GB-2")), stop, overdue=False)
    await transactions.settled()

    assert [e["alert_id"] for e in rs.named("alert.received")] == ["GB-1"]
    assert "offsets [1] g" in producer.calls


async def test_a_rebalance_waits_for_the_commit_the_consumer_is_already_waiting_for() -> None:
    """quiet() returns only once the transaction in flight committed, whoever else awaits it."""
    _, producer, transactions = country("RS")
    await transactions.take(batch("RS", "inbox", alert("GB-1")), asyncio.Event(), overdue=False)
    waiting = asyncio.create_task(transactions.settled())
    await asyncio.sleep(0)

    await transactions.quiet()

    assert producer.calls[-1] == "commit"
    await waiting

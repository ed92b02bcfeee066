"""Connection backoff and record header helpers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition
from aiokafka import errors as aiokafka_errors
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer import sender as aiokafka_sender

from intelshare.contract.headers import header_map, header_text, headers
from intelshare.errors import BrokerUnavailable
from intelshare.runtime.kafka import MARKERS_BACKOFF_S, Backoff, KeyPartitioner, connect
from intelshare.runtime.refusals import kafka_failure
from intelshare.runtime.settings import Settings


def test_backoff_doubles_up_to_the_cap_within_the_deadline() -> None:
    """Delays grow by the factor, stop growing at the cap, and end before the deadline."""
    delays = list(Backoff(initial=0.5, factor=2, maximum=2, deadline=8).delays())

    assert delays == [0.5, 1, 2, 2, 2]
    assert sum(delays) <= 8


def test_backoff_without_deadline_never_ends() -> None:
    """A zero deadline retries for ever."""
    delays = Backoff(deadline=0).delays()

    assert [next(delays) for _ in range(100)][-1] == 5.0


def test_headers_skip_empty_values_and_read_back_as_text() -> None:
    """Empty header values are left out; header_text decodes the one asked for, if it can."""
    raw = headers(schema="intelshare.v2.Alert", trace_id="", originator="GB")
    found = header_map([*raw, ("bad", b"\xff"), ("none", None), ("originator", b"RS")])

    assert [name for name, _ in raw] == ["schema", "originator"]
    assert found == {"schema": b"intelshare.v2.Alert", "originator": b"RS", "bad": b"\xff"}
    assert header_text(found, "originator") == "RS"
    assert header_text(found, "bad") is None
    assert header_text(found, "trace_id") is None


class Refusing:
    """A client whose start always fails as an unreachable broker does."""

    starts = 0

    async def start(self) -> None:
        """Fail like aiokafka does when nothing listens."""
        Refusing.starts += 1
        raise OSError("connection refused")

    async def stop(self) -> None:
        """Nothing to free."""


async def test_connect_gives_up_with_broker_unavailable() -> None:
    """After the backoff's deadline, connect() raises BrokerUnavailable (retriable)."""
    Refusing.starts = 0
    settings = Settings(bootstrap="127.0.0.1:1")
    with pytest.raises(BrokerUnavailable, match="unreachable") as raised:
        await connect(
            Refusing,
            what="test",
            settings=settings,
            backoff=Backoff(initial=0.01, maximum=0.01, deadline=0.035),
        )

    assert raised.value.retriable
    assert Refusing.starts == 4


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(
            aiokafka_errors.KafkaConnectionError("refused"), "BrokerUnavailable", id="conn"
        ),
        pytest.param(aiokafka_errors.RequestTimedOutError(), "BrokerUnavailable", id="timed-out"),
        pytest.param(aiokafka_errors.KafkaTimeoutError(), "BrokerUnavailable", id="client-timeout"),
        pytest.param(aiokafka_errors.MessageSizeTooLargeError(), "RequestRefused", id="size"),
        pytest.param(aiokafka_errors.RecordTooLargeError(), "RequestRefused", id="record"),
        pytest.param(aiokafka_errors.ProducerFenced(), "RequestRefused", id="fenced"),
        pytest.param(
            aiokafka_errors.TopicAuthorizationFailedError("intel.alerts.RS"),
            "AccessDenied",
            id="acl",
        ),
    ],
)
def test_only_an_unreachable_broker_counts_as_unavailable(error, expected: str) -> None:
    """Size limits, fencing and ACL refusals are refusals, not 'broker unavailable'."""
    failure = kafka_failure(error, object(), "WRITE", "intel.alerts.RS")

    assert type(failure).__name__ == expected
    assert failure.retriable is (expected == "BrokerUnavailable")
    assert str(failure)


@pytest.mark.parametrize("length", range(12))
def test_the_partitioner_places_keys_as_kafkas_murmur2_does(length: int) -> None:
    """Every key length (whole words and each tail) lands where aiokafka's default puts it."""
    partitions = list(range(7))
    ours = KeyPartitioner()
    for seed in range(50):
        key = bytes((seed * 31 + i * 7) % 256 for i in range(length))

        assert ours(key, partitions, partitions) == DefaultPartitioner()(
            key, partitions, partitions
        )


def test_a_begin_meeting_the_previous_commits_markers_retries_after_the_short_backoff() -> None:
    """The CONCURRENT_TRANSACTIONS answer to a transaction's first partitions waits our backoff."""
    txn_manager = SimpleNamespace(txn_partitions=set(), transactional_id="t")
    sender = SimpleNamespace(_retry_backoff=0.02, _txn_manager=txn_manager)
    handler = aiokafka_sender.AddPartitionsToTxnHandler(sender, [TopicPartition("t", 0)])
    concurrent = aiokafka_errors.ConcurrentTransactions.errno
    response = SimpleNamespace(errors=[("t", [(0, concurrent)])])

    assert handler.handle_response(response) == MARKERS_BACKOFF_S < 0.02

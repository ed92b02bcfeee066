"""The crypto helper process: a shortcut for exactly what it verified, and the same signatures."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiokafka.structs import ConsumerRecord

from intelshare.consumer.proof import ProofError, check_signature
from intelshare.contract.headers import HEADER_ORIGINATOR
from intelshare.contract.signing import (
    HEADER_ORIGIN_SIGNATURE,
    HEADER_ORIGIN_VALUE,
    HEADER_SIGNATURE,
    HEADER_SIGNER,
    demo_key,
    demo_public_key,
    sign_batch,
)
from intelshare.network.model import default_network
from intelshare.runtime.cryptohelper import CryptoHelper, known
from intelshare.runtime.eventlog import EventLog

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

GENUINE = b"an alert GB wrote"
TAMPERED = b"an alert GB never wrote"


def record(value: bytes, *headers: tuple[str, bytes]) -> ConsumerRecord[bytes, bytes]:
    """A fetched record with ``value`` and ``headers``."""
    return ConsumerRecord(
        topic="intel.alerts.RS",
        partition=0,
        offset=0,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=value,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=len(value),
        headers=headers,
    )


def signed(
    writer: str, value: bytes, *, claimed: str | None = None
) -> tuple[tuple[str, bytes], ...]:
    """Headers of ``value`` signed by ``writer``, naming ``claimed`` (default ``writer``)."""
    return (
        (HEADER_SIGNER, (claimed or writer).encode()),
        (HEADER_SIGNATURE, demo_key(writer).sign(value)),
    )


@pytest.fixture
async def crypto() -> AsyncIterator[tuple[CryptoHelper, io.StringIO]]:
    """A started helper with the default network's keys, and its log."""
    out = io.StringIO()
    helper = CryptoHelper(
        default_network().public_key,
        log=EventLog(service="consumer", country="RS", fmt="json", output=out),
    )
    await helper.start()
    try:
        yield helper, out
    finally:
        helper.stop()


async def test_only_good_signatures_by_known_keys_come_back(crypto) -> None:
    """Forged, tampered, unsigned and unknown-signer records prove nothing; genuine ones do."""
    helper, _ = crypto
    genuine = signed("GB", GENUINE)
    onward = (
        *signed("MK", b"MK's onward copy"),
        (HEADER_ORIGINATOR, b"GB"),
        (HEADER_ORIGIN_VALUE, GENUINE),
        (HEADER_ORIGIN_SIGNATURE, demo_key("GB").sign(GENUINE)),
    )
    records = [
        record(GENUINE, *genuine),
        record(TAMPERED, *genuine),  # GB's signature over other bytes
        record(GENUINE, *signed("MK", GENUINE, claimed="GB")),  # MK signing in GB's name
        record(GENUINE),
        record(GENUINE, *signed("ZZ", GENUINE)),  # a signer outside the network
        record(b"MK's onward copy", *onward),
    ]
    proven = await helper.prove(records)
    assert proven == {
        genuine[1][1]: (demo_public_key("GB"), GENUINE),
        onward[1][1]: (demo_public_key("MK"), b"MK's onward copy"),
    }
    assert helper.proven == 2


async def test_a_proven_signature_reused_on_other_bytes_is_still_refused(crypto) -> None:
    """GB's genuine signature, proven in the same poll, does not vouch for tampered bytes."""
    helper, _ = crypto
    genuine = signed("GB", GENUINE)
    proven = await helper.prove([record(GENUINE, *genuine)])
    headers = dict(genuine)
    assert known(proven, demo_public_key("GB"), headers[HEADER_SIGNATURE], GENUINE)
    assert check_signature(default_network(), headers, GENUINE, proven) == "GB"
    with pytest.raises(ProofError) as refused:
        check_signature(default_network(), headers, TAMPERED, proven)
    assert refused.value.rule == "bad-signature"


async def test_batch_signatures_are_left_to_the_consumer(crypto) -> None:
    """A batch proof never goes to the helper: its root is checked once, in the consumer."""
    helper, _ = crypto
    values = [f"receipt {n}".encode() for n in range(3)]
    proofs = sign_batch(demo_key("GB"), values)
    batch = [
        record(v, (HEADER_SIGNER, b"GB"), (HEADER_SIGNATURE, p))
        for v, p in zip(values, proofs, strict=True)
    ]
    assert await helper.prove(batch) == {}
    assert helper.proven == 0


async def test_a_dead_helper_proves_nothing_and_says_so_once(crypto) -> None:
    """Killing the helper process leaves every signature to the consumer, with one warning."""
    helper, out = crypto
    pool = helper._pool  # the helper process is what this test attacks
    assert pool is not None
    for process in list(pool._processes.values()):
        process.kill()
        process.join()
    genuine = record(GENUINE, *signed("GB", GENUINE))
    assert await helper.prove([genuine]) == {}
    assert await helper.prove([genuine]) == {}
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["consumer.helper_failed"]


HOLDER = """
import asyncio, io, sys
from intelshare.runtime.cryptohelper import CryptoHelper
from intelshare.runtime.eventlog import EventLog

async def main():
    log = EventLog(service="consumer", country="RS", output=io.StringIO())
    helper = CryptoHelper(lambda code: None, log=log)
    await helper.start()
    print(*helper._pool._processes, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def test_the_helper_ends_when_its_consumer_is_killed() -> None:
    """Kill -9 on the consumer leaves no helper process behind."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None
            (pid,) = map(int, holder.stdout.readline().split())
            assert _alive(pid)
        finally:
            holder.kill()
    deadline = time.monotonic() + 30
    while _alive(pid):
        assert time.monotonic() < deadline, f"helper {pid} outlived its consumer"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text(encoding="ascii").split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False

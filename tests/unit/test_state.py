"""A country's state entries: encoding, applying, and what is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from intelshare.state.entries import (
    ConsentEntry,
    CountryState,
    InboxEntry,
    OverdueMark,
    ReceiptMark,
    SentCopy,
    SentRecord,
    decode_entry,
    encode_entry,
)

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def inbox(revision: int, *, receipt: bool = False, originator: str = "GB") -> InboxEntry:
    """GB-1 at some revision, as RS holds it."""
    return InboxEntry(
        alert_id="GB-1",
        revision=revision,
        status="received",
        originator=originator,
        case_id="C1",
        receipt_sent=receipt,
        record=b"\xc3\x01bytes",
    )


def sent(due: datetime | None, recipient: str = "RS") -> SentCopy:
    """GB-1 r1 sent to ``recipient``."""
    return SentCopy(
        alert_id="GB-1",
        revision=1,
        recipient=recipient,
        case_id="C1",
        created_at=NOW,
        response_due=due,
        trace_id="t",
    )


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(inbox(2, receipt=True), id="inbox"),
        pytest.param(sent(NOW + timedelta(hours=8)), id="sent"),
        pytest.param(SentRecord(alert_id="GB-1", revision=1, record=b"\x00\x01"), id="record"),
        pytest.param(
            ReceiptMark(alert_id="GB-1", revision=1, recipient="RS", status="HIT", receipt_id="R9"),
            id="receipt",
        ),
        pytest.param(OverdueMark(alert_id="GB-1", revision=1, recipient="RS"), id="overdue"),
        pytest.param(
            ConsentEntry(
                consent_id="RS-C-1", alert_id="GB-1", revision=1, originator="GB", onward_to=("HU",)
            ),
            id="consent",
        ),
    ],
)
def test_every_entry_round_trips_through_the_topic_encoding(entry) -> None:
    """encode_entry then decode_entry gives the same value; the key names kind and identity."""
    key, value = encode_entry(entry)

    assert decode_entry(value) == entry
    assert key.decode() == entry.key
    assert key.decode().split("/")[0] in value.decode()


def test_unknown_or_broken_values_are_ignored() -> None:
    """A value from a newer version or a broken one decodes to None, not an error."""
    assert decode_entry(b'{"kind":"future","x":1}') is None
    assert decode_entry(b"not json") is None


def test_an_older_inbox_revision_never_replaces_a_newer_one() -> None:
    """Applying r1 after r2 keeps r2; r2 with its receipt replaces r2 without."""
    state = CountryState()
    state.apply(inbox(2))
    state.apply(inbox(1, receipt=True))
    assert state.inbox["GB", "GB-1"].revision == 2
    state.apply(inbox(2, receipt=True))
    assert state.inbox["GB", "GB-1"].receipt_sent


def test_handled_covers_this_and_older_revisions() -> None:
    """A revision at or below the newest handled one counts as handled."""
    state = CountryState()
    state.apply(inbox(2))

    assert state.handled("GB", "GB-1", 1) is not None
    assert state.handled("GB", "GB-1", 2) is not None
    assert state.handled("GB", "GB-1", 3) is None
    assert state.handled("GB", "GB-9", 1) is None


def test_an_alert_is_known_by_its_originator_and_id() -> None:
    """Another originator's alert with the same id and a higher revision is a separate alert."""
    state = CountryState()
    state.apply(inbox(50, originator="XK"))

    assert state.handled("GB", "GB-1", 1) is None
    assert state.handled("XK", "GB-1", 50) is not None


def test_an_inbox_entry_under_the_old_key_still_reads() -> None:
    """A value written under ``inbox/<id>`` (before keys named the originator) still applies."""
    value = (
        b'{"kind":"inbox","alert_id":"GB-1","revision":1,"status":"received",'
        b'"originator":"GB","case_id":"C1"}'
    )
    entry = decode_entry(value)
    state = CountryState()
    assert entry is not None
    state.apply(entry)

    assert state.handled("GB", "GB-1", 1) is not None
    assert entry.key == "inbox/GB/GB-1"


def test_due_lists_unanswered_copies_once() -> None:
    """A copy past due is due until answered or reported; copies without a due date never are."""
    state = CountryState()
    state.apply(sent(NOW - timedelta(seconds=1), "RS"))
    state.apply(sent(NOW - timedelta(seconds=1), "MK"))
    state.apply(sent(NOW + timedelta(hours=1), "AL"))
    state.apply(sent(None, "TR"))
    state.apply(ReceiptMark(alert_id="GB-1", revision=1, recipient="MK", status="RECEIVED"))

    assert [c.recipient for c in state.due(NOW)] == ["RS"]
    state.apply(OverdueMark(alert_id="GB-1", revision=1, recipient="RS"))
    assert list(state.due(NOW)) == []


def test_several_receipts_for_one_copy_are_each_remembered() -> None:
    """RECEIVED then HIT for the same copy: both ids are known; the latest status stands."""
    state = CountryState()
    for receipt_id, status in (("R1", "RECEIVED"), ("R2", "HIT")):
        state.apply(
            ReceiptMark(
                alert_id="GB-1", revision=1, recipient="RS", status=status, receipt_id=receipt_id
            )
        )

    assert state.receipt_ids == {"R1", "R2"}
    assert state.receipts[("GB-1", 1, "RS")] == "HIT"

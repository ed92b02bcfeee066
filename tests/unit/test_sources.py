"""Alert sources: JSON lines in the Avro JSON encoding."""

from __future__ import annotations

from intelshare.contract import codec
from intelshare.contract.alerts import new_alert
from intelshare.contract.schemas import default_registry
from intelshare.producer.sources import from_json_lines, parse_line


def alert_json() -> str:
    """One alert as intelshare decode prints it."""
    record = new_alert(
        originator="GB", recipients=["RS"], category="MODUS_OPERANDI", case_id="C1", summary="s"
    )
    return codec.to_json(default_registry().get("Alert"), record).strip()


def test_a_decoded_alert_line_parses_back_to_the_record() -> None:
    """A line as intelshare decode writes it is read as an Alert record."""
    line = parse_line(alert_json(), 3)

    assert line.record is not None
    assert line.record["recipients"] == ["RS"]
    assert line.error is None


def test_a_bad_line_names_its_number() -> None:
    """A line that is not an alert says which line and why."""
    line = parse_line('{"alert_id": 1}', 7)

    assert line.record is None
    assert line.error is not None
    assert line.error.startswith("line 7:")


async def test_a_file_yields_each_non_blank_line_in_order(tmp_path) -> None:
    """Blank lines are skipped; numbers count every line of the file."""
    path = tmp_path / "alerts.jsonl"
    path.write_text(f"{alert_json()}\n\nnot json\n")

    lines = [line async for line in from_json_lines(path)]

    assert [(line.number, line.record is not None) for line in lines] == [(1, True), (3, False)]

"""What the benchmark scripts share: a broker of their own, waiting for consumer groups, alerts.

Imported by ``scripts/bench-*`` (run as ``.venv/bin/python scripts/bench-…``, so this folder is
on ``sys.path``). Kafka clients are imported inside the functions: a script checks it runs in
the venv before anything needs them.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

ROOT = Path(__file__).resolve().parents[1]
KAFKA_LOCAL = str(ROOT / "scripts" / "kafka-local")


def own_broker(port: int, given: str | None = None) -> tuple[str, bool]:
    """The ``given`` broker, else 127.0.0.1:``port`` (the one answering there, or one started).

    Returns its bootstrap address and whether it was started here (then :func:`stop_broker`).
    """
    if given:
        return given, False
    bootstrap = f"127.0.0.1:{port}"
    status = subprocess.run(  # noqa: S603 - our own script
        [KAFKA_LOCAL, "status", "--port", str(port)], capture_output=True, check=False
    )
    if status.returncode == 0:
        return bootstrap, False
    print(f"starting a broker on {bootstrap} ...", flush=True)
    subprocess.run(  # noqa: S603 - our own script
        [KAFKA_LOCAL, "start", "--port", str(port), "--data-dir", f"/tmp/kafka-{port}"],  # noqa: S108
        capture_output=True,
        check=True,
    )
    return bootstrap, True


def stop_broker(port: int) -> None:
    """Stop the broker :func:`own_broker` started."""
    subprocess.run(  # noqa: S603 - our own script
        [KAFKA_LOCAL, "stop", "--port", str(port)], capture_output=True, check=False
    )


async def group_stable(bootstrap: str, group: str, options: Mapping[str, Any]) -> bool:
    """Whether consumer group ``group`` is stable with a member (its consumer owns partitions)."""
    from aiokafka.admin import AIOKafkaAdminClient  # noqa: PLC0415 - see the module docstring
    from aiokafka.errors import KafkaError  # noqa: PLC0415

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **options)
    try:
        await admin.start()  # a broker still starting refuses: not stable yet
        # One group a call: a group the broker does not know yet fails the whole request.
        responses = await admin.describe_consumer_groups([group])
    except KafkaError:
        return False
    finally:
        await admin.close()
    # Each group described: (error, id, state, protocol type, protocol, members, ...)
    return any(g[2] == "Stable" and g[5] for r in responses for g in r.groups)


def wait_groups(
    bootstrap: str,
    groups: Iterable[str],
    processes: Iterable[subprocess.Popen[Any]],
    *,
    who: str,
    limit: float,
    options: Mapping[str, Any] | None = None,
) -> None:
    """Wait until every group is stable; stop at once if one of ``processes`` exits.

    Raises:
        SystemExit: a process exited, or ``limit`` seconds passed (the message names ``who``).
    """
    waiting = list(groups)
    processes = list(processes)
    deadline = time.monotonic() + limit
    while waiting:
        exited = [p for p in processes if p.poll() is not None]
        if exited:
            raise SystemExit(
                f"{who}: a consumer exited before it was ready ({exited[0].returncode})"
            )
        if time.monotonic() > deadline:
            raise SystemExit(f"{who}: {', '.join(waiting)} not stable after {limit:.0f} s")
        if asyncio.run(group_stable(bootstrap, waiting[0], options or {})):
            waiting.pop(0)
        else:
            time.sleep(0.2)


def make_alerts(count: int, folder: Path) -> tuple[Path, Path, int]:
    """Write N alerts as Avro JSON lines (intelshare's input) and as wire records (the peers').

    Returns the two files and the mean size of an encoded alert.
    """
    from intelshare.contract import codec  # noqa: PLC0415 - imported when used, as the clients
    from intelshare.contract.alerts import new_alert  # noqa: PLC0415
    from intelshare.contract.schemas import default_registry  # noqa: PLC0415

    registry = default_registry()
    schema = registry.newest("Alert")
    jsonl, wire = folder / "alerts.jsonl", folder / "alerts.wire"
    total = 0
    with jsonl.open("w", encoding="utf-8") as text, wire.open("w", encoding="utf-8") as raw:
        for number in range(count):
            record = new_alert(
                originator="GB",
                recipients=["RS"],
                category="MODUS_OPERANDI",
                case_id=f"GB-CASE-{number % 50:04d}",
                summary="People hidden among pallets of furniture in a lorry at Tabanovce.",
                tlp="TLP_GREEN",
                seed=("bench-peers", number),
                persons=[{"person_id": "P1", "role": "DRIVER", "nationality": "RS"}],
                vehicles=[
                    {"kind": "LORRY", "registration": "123-ABC", "registration_country": "RS"}
                ],
                locations=[
                    {
                        "kind": "BORDER_CROSSING_POINT",
                        "name": "Tabanovce",
                        "country": "MK",
                        "latitude": 42.21,
                        "longitude": 21.71,
                    }
                ],
                payments=[{"method": "HAWALA", "amount_minor": 350000, "currency": "EUR"}],
            )
            data = codec.encode(registry, "Alert", record)
            total += len(data)
            text.write(codec.to_json(schema, record).strip() + "\n")
            raw.write(json.dumps({"key": record["case_id"], "value": data.hex()}) + "\n")
    return jsonl, wire, round(total / max(count, 1))

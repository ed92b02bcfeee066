"""The secured broker from the outside: kcat as each principal, then intelshare's own services."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest
from kcat import Kcat, find_kcat
from servicekit import INTELSHARE, services

from intelshare.contract.alerts import new_alert
from intelshare.network.model import alerts_topic, audit_topic, receipts_topic, state_topic

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import SecureBroker

REFUSED = "Topic authorization failed"


@pytest.fixture(scope="module")
def kcat(tmp_path_factory: pytest.TempPathFactory) -> Kcat:
    """Debian's kcat with a librdkafka new enough for Kafka 4's SCRAM."""
    found = find_kcat(tmp_path_factory.mktemp("librdkafka"))
    assert "librdkafka 2." in found.version()
    return found


@pytest.fixture(scope="module")
def prefix() -> str:
    """One topic prefix for this module's topics and ACLs on the shared secured broker."""
    return "t.security.kcat."


@pytest.fixture(scope="module")
def network_topics(secure_kafka: SecureBroker, prefix: str) -> str:
    """The default network's topics and ACLs under the prefix, made with the admin's file."""
    result = run_intelshare(
        "topics", "--client-config", str(secure_kafka.client("admin")), "--prefix", prefix
    )
    assert result.returncode == 0, result.stderr
    assert "ACLs: " in result.stdout
    return prefix


def run_intelshare(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Run the intelshare command and return what it did."""
    return subprocess.run(
        [str(INTELSHARE), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def produce(
    kcat: Kcat, broker: SecureBroker, who: str, topic: str, text: str
) -> subprocess.CompletedProcess[str]:
    """Write one keyed message with kcat as ``who``."""
    return kcat(broker.client(who), "-P", "-t", topic, "-k", "case-1", stdin=text + "\n")


def consume(
    kcat: Kcat, broker: SecureBroker, who: str, topic: str
) -> subprocess.CompletedProcess[str]:
    """Read a topic from the beginning to its end with kcat as ``who``."""
    return kcat(broker.client(who), "-C", "-t", topic, "-o", "beginning", "-e", "-f", "%k %s\n")


def test_gb_writes_rs_inbox_and_rs_reads_it(
    kcat: Kcat, secure_kafka: SecureBroker, network_topics: str
) -> None:
    """GB (agreement GB-RS) writes RS's inbox; RS reads what GB wrote."""
    inbox = alerts_topic("RS", network_topics)
    written = produce(kcat, secure_kafka, "GB", inbox, "from GB")
    assert written.returncode == 0, written.stderr
    read = consume(kcat, secure_kafka, "RS", inbox)
    assert read.returncode == 0, read.stderr
    assert "case-1 from GB" in read.stdout


@pytest.mark.parametrize("who", [pytest.param("XK", id="XK"), pytest.param("GB", id="GB")])
def test_nobody_else_reads_rs_inbox(
    kcat: Kcat, secure_kafka: SecureBroker, network_topics: str, who: str
) -> None:
    """XK and GB are refused reading RS's inbox, even GB, who may write it."""
    read = consume(kcat, secure_kafka, who, alerts_topic("RS", network_topics))
    assert read.returncode != 0
    assert REFUSED in read.stderr
    assert "from GB" not in read.stdout


@pytest.mark.parametrize(
    ("who", "owner"),
    [
        pytest.param("XK", "RS", id="XK-writes-RS"),
        pytest.param("RS", "XK", id="RS-writes-XK"),
    ],
)
def test_no_agreement_no_write(
    kcat: Kcat, secure_kafka: SecureBroker, network_topics: str, who: str, owner: str
) -> None:
    """Serbia and Kosovo share no agreement: the broker refuses each writing the other's inbox."""
    written = produce(kcat, secure_kafka, who, alerts_topic(owner, network_topics), "forbidden")
    assert written.returncode != 0
    assert REFUSED in written.stderr
    read = consume(kcat, secure_kafka, owner, alerts_topic(owner, network_topics))
    assert "forbidden" not in read.stdout


@pytest.mark.parametrize(
    "topic",
    [
        pytest.param(audit_topic, id="intel.audit"),
        pytest.param(lambda p: state_topic("GB", p), id="GB-state"),
    ],
)
def test_rs_reads_neither_audit_nor_another_state(
    kcat: Kcat, secure_kafka: SecureBroker, network_topics: str, topic
) -> None:
    """RS may read neither the audit topic nor GB's state topic."""
    read = consume(kcat, secure_kafka, "RS", topic(network_topics))
    assert read.returncode != 0
    assert REFUSED in read.stderr


def test_controller_reads_the_audit_topic(
    kcat: Kcat, secure_kafka: SecureBroker, network_topics: str
) -> None:
    """RS writes an audit line; the exercise controller, alone, reads it."""
    topic = audit_topic(network_topics)
    assert produce(kcat, secure_kafka, "RS", topic, "audit line").returncode == 0
    read = consume(kcat, secure_kafka, "controller", topic)
    assert read.returncode == 0, read.stderr
    assert "audit line" in read.stdout


def file_with(tmp_path: Path, source: Path, **replace: str) -> Path:
    """A copy of a client file with some keys replaced (None-like "" removes a key)."""
    lines = []
    for line in source.read_text().splitlines():
        key = line.partition("=")[0]
        if key in replace:
            if replace[key]:
                lines.append(f"{key}={replace[key]}")
            continue
        lines.append(line)
    path = tmp_path / f"variant-{len(list(tmp_path.iterdir()))}.properties"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param({"sasl.password": "wrong"}, "SASL authentication error", id="wrong-password"),
        pytest.param(
            {"security.protocol": "SSL", "sasl.mechanisms": "", "sasl.username": "",
             "sasl.password": ""},
            "Disconnected",
            id="tls-without-credentials",
        ),
        pytest.param(
            {"security.protocol": "PLAINTEXT", "sasl.mechanisms": "", "sasl.username": "",
             "sasl.password": "", "ssl.ca.location": ""},
            "Disconnected",
            id="plaintext",
        ),
    ],
)  # fmt: skip
def test_clients_without_valid_credentials_are_refused(
    kcat: Kcat, secure_kafka: SecureBroker, tmp_path: Path, change: dict[str, str], expected: str
) -> None:
    """No credentials, a wrong password or a plaintext client get no metadata at all."""
    variant = file_with(tmp_path, secure_kafka.client("RS"), **change)
    listed = kcat(variant, "-L")
    assert listed.returncode != 0
    assert expected in listed.stderr
    assert "Failed to acquire metadata" in listed.stderr


async def test_round_trip_under_acls(
    secure_kafka: SecureBroker, network_topics: str, tmp_path: Path
) -> None:
    """GB's producer → RS's consumer → receipt back at GB's consumer, each as its own principal."""
    async with services(secure_kafka.bootstrap, network_topics, tmp_path) as net:
        await net.consumer("RS", client_config=secure_kafka.client("RS"))
        await net.consumer("GB", client_config=secure_kafka.client("GB"))
        gb = await net.publisher("GB", client_config=secure_kafka.client("GB"))
        record = new_alert(
            originator="GB",
            recipients=["RS"],
            category="DISCREET_CHECK",
            case_id="GB-CASE-SECURE",
            summary="A lorry seen twice at Presevo.",
            tlp="TLP_AMBER",
        )
        result = await gb.publish(record)
        (received,) = await net.events.wait(
            "alert.received", country="RS", alert_id=record["alert_id"]
        )
        (receipt,) = await net.events.wait(
            "receipt.received", country="GB", alert_id=record["alert_id"]
        )
    assert result.sent_to == ("RS",)
    assert received["topic"] == alerts_topic("RS", network_topics)
    assert receipt["receipt_from"] == "RS"
    assert receipt["topic"] == receipts_topic("GB", network_topics)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The command's single error line (asserting there is no traceback and a non-zero exit)."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("intelshare: error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_wrong_password_names_the_principal(
    secure_kafka: SecureBroker, network_topics: str, tmp_path: Path
) -> None:
    """A wrong password ends the producer at once, naming the principal; no retrying."""
    variant = file_with(tmp_path, secure_kafka.client("GB"), **{"sasl.password": "wrong"})
    result = run_intelshare(
        "producer", "-c", "GB", "--client-config", str(variant), "--prefix", network_topics,
        "--count", "1", "--connect-timeout", "60", timeout=50,
    )  # fmt: skip
    line = one_line_error(result)
    assert "refused User:GB" in line
    assert "wrong password" in line
    assert result.returncode == 2


def test_untrusted_certificate_is_named(
    secure_kafka: SecureBroker, network_topics: str, tmp_path: Path
) -> None:
    """A CA that did not sign the broker's certificate ends the consumer with one line."""
    from intelshare.runtime.pki import ensure_pki  # noqa: PLC0415 - only this test needs it

    other = ensure_pki(tmp_path / "other-ca")
    variant = file_with(
        tmp_path, secure_kafka.client("RS"), **{"ssl.ca.location": str(other.ca_certificate)}
    )
    result = run_intelshare(
        "consumer", "-c", "RS", "--client-config", str(variant), "--prefix", network_topics,
        timeout=50,
    )  # fmt: skip
    line = one_line_error(result)
    assert "does not trust" in line
    assert str(variant) in line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(None, "no such file", id="missing"),
        pytest.param(
            "security.protocol=SASL_SSL\nsasl.user=RS\n", "unknown key 'sasl.user'", id="bad-key"
        ),
        pytest.param(
            "security.protocol=SASL_SSL\nsasl.mechanisms=SCRAM-SHA-512\n",
            "sasl.username is missing",
            id="missing-key",
        ),
    ],
)  # fmt: skip
def test_bad_client_file_names_file_and_key(
    tmp_path: Path, text: str | None, expected: str
) -> None:
    """A missing or malformed client file is refused before any connection, naming it."""
    path = tmp_path / "RS.properties"
    if text is not None:
        path.write_text(text)
    result = run_intelshare("consumer", "-c", "RS", "--client-config", str(path), timeout=30)
    line = one_line_error(result)
    assert str(path) in line
    assert expected in line
    assert result.returncode == 2


def test_consumer_refused_its_topics_exits_non_zero(
    secure_kafka: SecureBroker, network_topics: str
) -> None:
    """A consumer for XK connecting with RS's file is refused XK's topics and says so."""
    result = run_intelshare(
        "consumer", "-c", "XK", "--client-config", str(secure_kafka.client("RS")), "--prefix",
        network_topics, timeout=60,
    )  # fmt: skip
    line = one_line_error(result)
    assert "the broker refused User:RS" in line
    assert "XK" in line
    assert "no ACL allows it" in line


def test_producer_refused_a_write_names_principal_operation_topic(
    secure_kafka: SecureBroker, network_topics: str, tmp_path: Path
) -> None:
    """RS's file used for GB's producer: the broker refuses User:RS WRITE, named in one line."""
    result = run_intelshare(
        "producer", "-c", "GB", "--client-config", str(secure_kafka.client("RS")), "--prefix",
        network_topics, "--count", "3", "--rate", "0", timeout=60,
    )  # fmt: skip
    line = one_line_error(result)
    assert "refused User:RS" in line
    assert "on topic" in line

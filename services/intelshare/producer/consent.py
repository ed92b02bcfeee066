"""Consent and onward sharing: asking the originator, answering as the originator, sharing on.

Restricted handling (EU H2, TLP:RED, TLP:AMBER+STRICT, UK C) forbids sharing beyond the
addressed recipients without the originator's consent. A recipient asks with a
ConsentRequest on the originator's receipts topic; the originator decides with the policy
and answers with a ConsentGrant in the requester's inbox; the requester then shares onward,
each copy's ``hop_path`` recording the way it came. :class:`~.publisher.Publisher`
offers these as methods; all of them write through an :class:`~.outbox.Outbox`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from intelshare.contract import codec, events
from intelshare.contract.alerts import AlertHeader, to_millis
from intelshare.contract.headers import HEADER_ORIGINATOR, HEADER_SCHEMA, HEADER_TRACE, headers
from intelshare.contract.signing import HEADER_ORIGIN_SIGNATURE, HEADER_ORIGIN_VALUE
from intelshare.network.model import alerts_topic, receipts_topic
from intelshare.network.policy import check_send
from intelshare.producer.results import (
    ConsentResult,
    CopyResult,
    PublishResult,
    latency_ms,
    new_trace_id,
)
from intelshare.state.entries import ConsentEntry

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from intelshare.producer.outbox import Outbox

UNKNOWN_ALERT = "unknown-alert"
"""Rule id when an originator is asked about an alert it has no record of sending."""


async def request_consent(
    outbox: Outbox,
    alert: Mapping[str, Any],
    *,
    onward_to: Sequence[str],
    reason: str,
    consent_id: str | None = None,
    trace_id: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> ConsentResult:
    """Ask the alert's originator for consent to share it onward to ``onward_to``.

    The request goes to the originator's receipts topic; one ``consent.requested`` event
    is logged per onward country.
    """
    header = AlertHeader.from_record(alert)
    consent_id = consent_id or f"{outbox.country}-C-{uuid.uuid4().hex[:12].upper()}"
    trace_id = trace_id or new_trace_id()
    onward = tuple(dict.fromkeys(onward_to))
    request = {
        "consent_id": consent_id,
        "alert_id": header.alert_id,
        "revision": header.revision,
        "case_id": header.case_id,
        "originator": header.originator,
        "requester": outbox.country,
        "onward_to": list(onward),
        "hop_path": list(header.hop_path or (header.originator,)),
        "reason": reason,
        "requested_at": to_millis(outbox.now()),
    }
    schema = outbox.registry.get("ConsentRequest")
    data = codec.encode_with(schema, request)
    topic = receipts_topic(header.originator, outbox.topic_prefix)
    kafka_headers = headers(
        **{HEADER_SCHEMA: schema.full_name, HEADER_ORIGINATOR: header.originator},
        **{HEADER_TRACE: trace_id},
    )
    entry = ConsentEntry(
        consent_id=consent_id,
        alert_id=header.alert_id,
        revision=header.revision,
        originator=header.originator,
        onward_to=onward,
    )
    (metadata, _) = await outbox.acknowledged(
        [outbox.record(topic, header.case_id, data, kafka_headers), outbox.state_record(entry)]
    )
    for country in onward:
        outbox.log.info(
            events.CONSENT_REQUESTED,
            **header.log_fields(),
            recipient=country,
            receipt_from=outbox.country,
            consent_id=consent_id,
            reason=reason,
            trace_id=trace_id,
            **events.place(metadata),
            **dict(context or {}),
        )
    return ConsentResult(consent_id=consent_id, alert_id=header.alert_id, onward_to=onward)


async def answer_consent(
    outbox: Outbox,
    request: Mapping[str, Any],
    alert: Mapping[str, Any] | None,
    *,
    trace_id: str | None = None,
) -> ConsentResult:
    """Decide a consent request as the originator and send the answer to the requester.

    Each onward country is allowed when the requester could share the alert there with
    consent under the policy (it was addressed, and an agreement between the requester
    and that country covers the alert). An unknown alert is refused outright.
    """
    requester = str(request["requester"])
    onward = tuple(dict.fromkeys(str(c) for c in request["onward_to"]))
    now = outbox.now()
    allowed: list[str] = []
    refused: list[CopyResult] = []
    header = AlertHeader.from_record(alert) if alert is not None else None
    for country in onward:
        if header is None:
            refused.append(
                CopyResult.refusal(
                    country,
                    UNKNOWN_ALERT,
                    f"{outbox.country} has no record of sending {request['alert_id']}",
                )
            )
            continue
        decision = check_send(outbox.network, header, country, now, sender=requester, consent=True)
        if decision.allowed:
            allowed.append(country)
        else:
            refused.append(CopyResult.refusal(country, decision.rule, decision.reason))
    consent_id, alert_id = str(request["consent_id"]), str(request["alert_id"])
    case_id = str(request["case_id"])
    grant: dict[str, Any] = {
        "consent_id": consent_id,
        "alert_id": alert_id,
        "revision": int(request["revision"]),
        "case_id": case_id,
        "originator": outbox.country,
        "requester": requester,
        "onward_to": allowed,
        "granted": bool(allowed),
        "conditions": None,
        "decided_at": to_millis(now),
        "valid_until": header.valid_until if header is not None else None,
    }
    schema = outbox.registry.get("ConsentGrant")
    kafka_headers = headers(
        **{HEADER_SCHEMA: schema.full_name, HEADER_ORIGINATOR: outbox.country},
        **{HEADER_TRACE: trace_id or ""},
    )
    topic = alerts_topic(requester, outbox.topic_prefix)
    (metadata,) = await outbox.acknowledged(
        [outbox.record(topic, case_id, codec.encode_with(schema, grant), kafka_headers)]
    )
    fields: dict[str, Any] = (
        header.log_fields() if header is not None else {"alert_id": alert_id, "case_id": case_id}
    )
    common = {
        **fields,
        "originator": outbox.country,
        "receipt_from": requester,
        "consent_id": consent_id,
        "trace_id": trace_id,
    }
    for country in allowed:
        outbox.log.info(
            events.CONSENT_GRANTED,
            **common,
            recipient=country,
            **events.place(metadata),
        )
    for copy in refused:
        outbox.log.info(
            events.ALERT_REFUSED,
            **common,
            recipient=copy.recipient,
            rule=copy.rule,
            reason=copy.reason,
        )
    return ConsentResult(
        consent_id=consent_id,
        alert_id=alert_id,
        onward_to=tuple(allowed),
        granted=bool(allowed),
        refused=tuple(refused),
    )


async def share_onward(
    outbox: Outbox,
    alert: Mapping[str, Any],
    *,
    onward_to: Sequence[str],
    consent_id: str | None,
    trace_id: str | None = None,
    context: Mapping[str, Any] | None = None,
    origin: tuple[bytes, bytes] | None = None,
) -> PublishResult:
    """Share a received alert onward; each copy's ``hop_path`` ends with its recipient.

    Restricted handling (H2, TLP:RED, AMBER+STRICT, UK C) needs ``consent_id`` from the
    originator's grant; without it the policy refuses (``onward-needs-consent``).
    ``origin``: the alert's value as the originator signed it and that signature, carried
    by each copy (headers ``origin-value``, ``origin-signature``) so the last recipient can
    check the originator's proof as well as this country's own signature of the copy.
    """
    header = AlertHeader.from_record(alert)
    trace_id = trace_id or new_trace_id()
    extra = {**dict(context or {}), "trace_id": trace_id, "consent_id": consent_id}
    now = outbox.now()
    base_path = list(header.hop_path or (header.originator,))
    if base_path[-1] != outbox.country:
        base_path.append(outbox.country)
    results: list[CopyResult] = []
    for country in dict.fromkeys(onward_to):
        decision = check_send(
            outbox.network,
            header,
            country,
            now,
            sender=outbox.country,
            consent=consent_id is not None,
        )
        path = [*base_path, country]
        if not decision.allowed:
            results.append(CopyResult.refusal(country, decision.rule, decision.reason))
            outbox.log.info(
                events.ALERT_REFUSED,
                **header.log_fields(),
                **extra,
                recipient=country,
                rule=str(decision.rule),
                reason=decision.reason,
                hop_path=path,
            )
            continue
        copy = {**alert, "hop_path": path}
        data = outbox.encode_alert(copy, trace_id, extra)
        topic = alerts_topic(country, outbox.topic_prefix)
        kafka_headers = outbox.alert_headers(header, trace_id)
        if origin is not None:
            kafka_headers += [
                (HEADER_ORIGIN_VALUE, origin[0]),
                (HEADER_ORIGIN_SIGNATURE, origin[1]),
            ]
        (metadata,) = await outbox.acknowledged(
            [outbox.record(topic, header.case_id, data, kafka_headers)]
        )
        results.append(CopyResult.written(country, metadata))
        outbox.log.info(
            events.ALERT_SHARED_ONWARD,
            **header.log_fields(),
            **extra,
            recipient=country,
            hop_path=path,
            **events.place(metadata),
            latency_ms=latency_ms(header.created_at, outbox.now()),
        )
    return PublishResult.of(header, trace_id, results)

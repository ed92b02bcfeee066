"""The broker's refusals said in one line: who was refused what, and why retrying is useless.

aiokafka reports a wrong password or an untrusted certificate only as "Unable to bootstrap",
logging the reason; :func:`identity_refused` asks once more on a bare connection to learn it.
ACL refusals (``TopicAuthorizationFailedError`` and its kin) become :class:`AccessDenied`
naming the principal, the operation and the topic or group.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Final

from aiokafka.conn import create_conn
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaError,
    KafkaTimeoutError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
)

from intelshare.errors import (
    AccessDenied,
    AuthenticationFailed,
    BrokerUnavailable,
    RequestRefused,
)

if TYPE_CHECKING:
    from intelshare.runtime.client_config import ClientSecurity

PRINCIPAL: Final = "intelshare_principal"
"""The attribute a client made by :mod:`intelshare.runtime.kafka` carries: its principal."""
PROBE_TIMEOUT_MS: Final = 10_000

AUTHORIZATION_ERRORS: Final = (
    TopicAuthorizationFailedError,
    GroupAuthorizationFailedError,
    ClusterAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
)


def principal_of(client: object) -> str:
    """The principal a client connects as (``User:ANONYMOUS`` when it does not say)."""
    return str(getattr(client, PRINCIPAL, "User:ANONYMOUS"))


def access_denied(
    error: BaseException, principal: str, operation: str, resource: str | None = None
) -> AccessDenied | None:
    """An :class:`AccessDenied` for an ACL refusal, None for any other error."""
    if not isinstance(error, AUTHORIZATION_ERRORS):
        return None
    named = ", ".join(str(a) for a in error.args if isinstance(a, str) and a) or resource or "?"
    if isinstance(error, GroupAuthorizationFailedError):
        what = f"group {named}"
    elif isinstance(error, ClusterAuthorizationFailedError):
        what = "the cluster"
    elif isinstance(error, TransactionalIdAuthorizationFailed):
        what = f"transactional id {named}"
    else:
        what = f"topic {named}"
    return AccessDenied(
        f"the broker refused {principal} {operation} on {what} (no ACL allows it; the network "
        "file decides who may read and write what)"
    )


def kafka_failure(
    error: KafkaError, client: object, operation: str, resource: str
) -> AccessDenied | BrokerUnavailable | RequestRefused:
    """What a failed Kafka call means: an ACL refusal, no broker, or a refused request.

    A refused request is ``MessageSizeTooLarge``, ``RecordTooLarge``, a fenced producer…
    Only the broker not answering is worth retrying: aiokafka marks those errors
    ``retriable`` (plus its own client-side timeout).
    """
    denied = access_denied(error, principal_of(client), operation, resource)
    if denied is not None:
        return denied
    what = str(error) or type(error).__name__
    if error.retriable or isinstance(error, KafkaTimeoutError):
        return BrokerUnavailable(f"cannot {operation} {resource}: {what}")
    return RequestRefused(
        f"the broker refused to {operation} {resource}: {type(error).__name__}: {what}"
    )


async def identity_refused(security: ClientSecurity, bootstrap: str) -> AuthenticationFailed | None:
    """Why the broker (or our TLS check) refuses this identity, or None if it does not.

    Called after a secured client failed to start: a wrong password, an unknown user or a
    broker certificate the client's CA does not vouch for cannot be cured by retrying.
    """
    if not (security.uses_tls or security.uses_sasl):
        return None
    host, _, port = bootstrap.split(",", maxsplit=1)[0].strip().rpartition(":")
    try:
        connection = await create_conn(
            host.strip("[]"),
            int(port),
            request_timeout_ms=PROBE_TIMEOUT_MS,
            **security.aiokafka_options(),
        )
    except SaslAuthenticationFailed:
        return AuthenticationFailed(
            f"the broker at {bootstrap} refused {security.principal} ({security.mechanism}): "
            f"wrong password or unknown user in {security.source}"
        )
    except ssl.SSLCertVerificationError as error:
        return AuthenticationFailed(
            f"the broker at {bootstrap} has a certificate that {security.source} does not "
            f"trust (ssl.ca.location {security.ca_location}): {error.verify_message}"
        )
    except ssl.SSLError as error:
        return AuthenticationFailed(
            f"TLS with the broker at {bootstrap} failed ({security.source}): {error}"
        )
    except (KafkaError, OSError, TimeoutError):
        return None  # not an identity problem: the broker is away, keep retrying
    connection.close()
    return None

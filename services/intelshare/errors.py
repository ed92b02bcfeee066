"""The one exception root of intelshare and its small tree.

::

    IntelshareError                  exit_code 2, retriable = False
    ├── SchemaError                  an .avsc file or schema name is wrong
    ├── DecodeError                  bytes are not a valid single-object Avro message
    │   ├── MessageTooShort
    │   ├── BadMarker
    │   ├── UnknownFingerprint
    │   └── CorruptBody
    ├── EncodeError                  a record does not fit its schema
    ├── InvalidMessage               a message decodes but does not belong where it was found
    ├── NetworkError                 a network file is invalid (file, line, reason)
    ├── PolicyViolation              an alert may not go where it is addressed (rule, reason)
    ├── ScenarioError                a scenario file is invalid (file, line, column, reason)
    ├── FatalSyntax                  a YAML file cannot be read on (its position is recorded)
    ├── SettingsError                a setting or flag has a bad value
    ├── LogInputError                a log file, directory or option value cannot be used
    ├── BrokerUnavailable            retriable = True: the broker did not answer in time
    ├── AuthenticationFailed         the broker refused who we are (password, certificate)
    ├── AccessDenied                 the broker's ACLs refused an operation (principal, topic)
    ├── RequestRefused               the broker refused a request for what it is (too large, …)
    └── CheckFailed                  exit_code 1: an expectation or check did not hold

Exit codes of the ``intelshare`` command, which prints ``str(error)`` on one line (never a
traceback) and exits with ``error.exit_code``:

* 0: the command did its job (and every check it ran held);
* 1: the command ran and a check did not hold (:class:`CheckFailed`);
* 2: the command could not do its job with what it was given: a file, flag or variable is
  wrong, or the broker at ``--bootstrap`` did not answer within ``--connect-timeout``
  (:class:`BrokerUnavailable`: the address and the patience are input too, and a supervisor
  restarting the service is the retry), or the broker refused the client file's identity
  (:class:`AuthenticationFailed`) or an operation (:class:`AccessDenied`); click's own usage
  errors exit 2 as well;
* 130: interrupted (a second Ctrl-C that could not wait for a clean stop).

Inside a service two kinds never reach the command line: :class:`InvalidMessage` and the
decode errors send one message to the dead-letter topic and the service goes on;
:class:`FatalSyntax` stops reading a YAML file whose problems the reader has already recorded
with their positions, and the caller reports them (as a :class:`ScenarioError` or a
:class:`NetworkError`). ``retriable`` errors are re-raised by the consumer's handlers rather
than dead-lettered: the broker is in trouble, not the message.
"""

from __future__ import annotations


class IntelshareError(Exception):
    """Root of every error intelshare raises on purpose."""

    exit_code: int = 2
    retriable: bool = False


class SchemaError(IntelshareError):
    """A schema file cannot be loaded or a schema name is unknown."""


class DecodeError(IntelshareError):
    """Bytes cannot be decoded as a single-object encoded Avro message."""


class MessageTooShort(DecodeError):
    """The message is shorter than the 10-byte single-object header."""


class BadMarker(DecodeError):
    """The message does not start with the single-object marker ``C3 01``."""


class UnknownFingerprint(DecodeError):
    """The writer schema's fingerprint matches no known schema."""


class CorruptBody(DecodeError):
    """The Avro body does not decode with the writer schema."""


class EncodeError(IntelshareError):
    """A record does not conform to the schema it is encoded with."""


class InvalidMessage(IntelshareError):
    """A message decodes but does not belong where it was found (it is dead-lettered)."""


class NetworkError(IntelshareError):
    """A network file is invalid; the message names file, line and reason."""


class PolicyViolation(IntelshareError):
    """An alert may not be sent or accepted; ``rule`` names the rule that refused it."""

    def __init__(self, rule: str, reason: str) -> None:
        """Keep the refusing rule as data so callers can count refusals by rule."""
        super().__init__(f"refused by rule {rule}: {reason}")
        self.rule = rule
        self.reason = reason


class ScenarioError(IntelshareError):
    """A scenario file is invalid; the message names file, line, column and reason."""


class FatalSyntax(IntelshareError):
    """A YAML file is broken past reading on; its problems are already recorded with positions."""


class SettingsError(IntelshareError):
    """A setting from a flag or an ``INTELSHARE_*`` variable has a bad value."""


class LogInputError(IntelshareError):
    """A log source cannot be read or a log filter value is malformed (``intelshare logs``)."""


class BrokerUnavailable(IntelshareError):
    """The Kafka broker cannot be reached or did not acknowledge; worth retrying (exit code 2)."""

    retriable = True


class AuthenticationFailed(IntelshareError):
    """The broker refused the client's identity, or the client refused the broker's certificate.

    Retrying cannot help: the client file is wrong (password, principal or CA).
    """


class AccessDenied(IntelshareError):
    """The broker's ACLs refused an operation; the message names principal, operation, resource."""


class RequestRefused(IntelshareError):
    """The broker answered and refused the request itself (a record too large, a fenced producer).

    Retrying the same request cannot help, and the broker is not unavailable.
    """


class CheckFailed(IntelshareError):
    """A check ran and did not hold (e.g. a replay expectation); exit code 1."""

    exit_code = 1

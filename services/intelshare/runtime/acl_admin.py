"""Reading and changing the broker's ACLs with aiokafka's protocol structs.

aiokafka has the DescribeAcls, CreateAcls and DeleteAcls requests (v1, with pattern types) but no
admin method for them, so this module sends them through an admin client that is already
connected, as the admin principal, with the same connection settings as every other client.
:func:`sync_acls` makes the broker's rules for one topic prefix exactly the wanted ones.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Final

from aiokafka.errors import for_code
from aiokafka.protocol.admin import (
    CreateAclsRequest_v1,
    DeleteAclsRequest_v1,
    DescribeAclsRequest_v1,
)
from aiokafka.protocol.api import Request

from intelshare.errors import IntelshareError
from intelshare.network.acls import AclBinding, AclChanges, acl_changes

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aiokafka.admin import AIOKafkaAdminClient

ANY: Final = 1
"""The wildcard value of every ACL enum in a filter."""
RESOURCE_TYPES: Final = {"TOPIC": 2, "GROUP": 3, "CLUSTER": 4, "TRANSACTIONAL_ID": 5}
PATTERN_TYPES: Final = {"LITERAL": 3, "PREFIXED": 4}
OPERATIONS: Final = {
    "ALL": 2, "READ": 3, "WRITE": 4, "CREATE": 5, "DELETE": 6, "ALTER": 7, "DESCRIBE": 8,
    "CLUSTER_ACTION": 9, "DESCRIBE_CONFIGS": 10, "ALTER_CONFIGS": 11, "IDEMPOTENT_WRITE": 12,
}  # fmt: skip
ALLOW: Final = 3
"""The permission type of every rule intelshare writes."""
ALL_HOSTS: Final = "*"
APPLY_WAIT: Final = 120.0
"""Seconds to wait for the broker to apply ACL changes the controller committed."""


class AclError(IntelshareError):
    """The broker refused to show or change its ACLs (e.g. the client is not the admin)."""


def _name_of_code(table: dict[str, int], code: int) -> str:
    for name, value in table.items():
        if value == code:
            return name
    return str(code)


def _binding_key(binding: AclBinding) -> tuple[Any, ...]:
    return (
        RESOURCE_TYPES[binding.resource_type],
        binding.resource_name,
        PATTERN_TYPES[binding.pattern],
        binding.principal,
        ALL_HOSTS,
        OPERATIONS[binding.operation],
        ALLOW,
    )


class _Describe(Request[DescribeAclsRequest_v1]):  # type: ignore[misc]  # aiokafka ships no type information
    API_KEY = 29

    def build(self, request_struct_class: type[DescribeAclsRequest_v1]) -> DescribeAclsRequest_v1:
        # Every ALLOW rule on any resource, for any principal and host.
        return request_struct_class(ANY, None, ANY, None, None, ANY, ALLOW)


class _Create(Request[CreateAclsRequest_v1]):  # type: ignore[misc]  # aiokafka ships no type information
    API_KEY = 30

    def __init__(self, bindings: Sequence[AclBinding]) -> None:
        self.bindings = bindings

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class([_binding_key(b) for b in self.bindings])


class _Delete(Request[DeleteAclsRequest_v1]):  # type: ignore[misc]  # aiokafka ships no type information
    API_KEY = 31

    def __init__(self, bindings: Sequence[AclBinding]) -> None:
        self.bindings = bindings

    def build(self, request_struct_class: type[DeleteAclsRequest_v1]) -> DeleteAclsRequest_v1:
        # A filter with every field given matches exactly that one rule.
        return request_struct_class([_binding_key(b) for b in self.bindings])


def _check(code: int, message: str | None, doing: str) -> None:
    if code:
        kind = for_code(code)
        raise AclError(f"{doing}: {kind.__name__}: {message or kind.message}")


async def _send(admin: AIOKafkaAdminClient, request: Request[Any]) -> Any:  # noqa: ANN401
    # The admin client's own request path (node choice, connection, versions); it has no
    # public method for ACL requests.
    return await admin._send_request(request)  # noqa: SLF001


async def broker_acls(admin: AIOKafkaAdminClient) -> tuple[AclBinding, ...]:
    """Every ALLOW rule the broker holds, on topics, groups and anything else."""
    response = await _send(admin, _Describe())
    _check(response.error_code, response.error_message, "describing ACLs")
    found = []
    for resource_type, name, pattern, acls in response.resources:
        for who, _host, operation, _permission in acls:
            found.append(
                AclBinding(
                    resource_type=_name_of_code(RESOURCE_TYPES, resource_type),
                    resource_name=name,
                    pattern=_name_of_code(PATTERN_TYPES, pattern),
                    principal=who,
                    operation=_name_of_code(OPERATIONS, operation),
                )
            )
    return tuple(sorted(found))


async def sync_acls(
    admin: AIOKafkaAdminClient, wanted: Sequence[AclBinding], prefix: str = ""
) -> AclChanges:
    """Create the wanted rules the broker lacks and delete managed rules no longer wanted.

    Idempotent: a second run changes nothing. Only rules on ``prefix``'s topics and groups are
    deleted (see :func:`intelshare.runtime.acls.managed`).

    Raises:
        AclError: the broker refused (the client is not allowed to alter ACLs, or the broker
            has no authorizer).
    """
    changes = acl_changes(tuple(wanted), await broker_acls(admin), prefix)
    if changes.delete:
        response = await _send(admin, _Delete(changes.delete))
        for code, message, _matching in response.filter_responses:
            _check(code, message, "deleting ACLs")
    if changes.create:
        response = await _send(admin, _Create(changes.create))
        for code, message in response.creation_responses:
            _check(code, message, "creating ACLs")
    if changes.create or changes.delete:
        await _wait_until_applied(admin, set(wanted), set(changes.delete))
    return changes


async def _wait_until_applied(
    admin: AIOKafkaAdminClient, wanted: set[AclBinding], deleted: set[AclBinding]
) -> None:
    # The controller commits ACL changes before answering, but each broker applies them when it
    # replays the metadata log, a moment later; a client starting at once would be refused.
    deadline = time.monotonic() + APPLY_WAIT
    while time.monotonic() < deadline:
        present = set(await broker_acls(admin))
        if wanted <= present and not deleted & present:
            return
        await asyncio.sleep(0.1)
    raise AclError(f"the broker did not show the ACL changes within {APPLY_WAIT:g} s")

"""``@value_type``: an immutable value made per message, without a frozen dataclass's cost.

A frozen dataclass sets each field in ``__init__`` through ``object.__setattr__`` (its own
``__setattr__`` refuses), a function call per field: 2.4x the cost of a plain slots class.
The dozen values every alert makes on its way (its header, grading and handling, the policy
decision, the records written and their acknowledgements, the state entry) spent ~12 % of
the consumer's CPU on that alone. A ``@value_type`` class is a slots dataclass whose fields
the type checker treats as read-only (``mypy --strict`` refuses an assignment, as for
``frozen=True``), equal and hashable by value like a frozen dataclass; at run time nothing
stops an assignment, so values whose immutability must hold against code outside the package
stay ``@dataclass(frozen=True)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, dataclass_transform, overload

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")


@overload
def value_type(cls: type[T], /) -> type[T]: ...


@overload
def value_type(*, kw_only: bool = True) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, kw_only_default=True)
def value_type(
    cls: type[T] | None = None, /, *, kw_only: bool = True
) -> type[T] | Callable[[type[T]], type[T]]:
    """Make ``cls`` a value type (keyword-only fields unless ``kw_only=False``)."""

    def make(target: type[T]) -> type[T]:
        # unsafe_hash: hashed by its fields, as a frozen dataclass is (eq alone unhashes it).
        return dataclass(slots=True, kw_only=kw_only, unsafe_hash=True)(target)

    return make if cls is None else make(cls)

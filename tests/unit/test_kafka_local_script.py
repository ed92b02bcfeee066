"""scripts/kafka-local names new clusters the way Kafka's own tools can read back."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "kafka-local"


def _script() -> ModuleType:
    """The kafka-local script loaded as a module (it has no .py suffix)."""
    loader = importlib.machinery.SourceFileLoader("kafka_local_script", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # dataclasses look their module up by name
    loader.exec_module(module)
    return module


def test_no_cluster_id_starts_with_a_dash() -> None:
    """Ids never start with "-" (one random base64url UUID in 64 would), as Kafka's Uuid rules."""
    new_cluster_id = _script().new_cluster_id
    ids = [new_cluster_id() for _ in range(3000)]
    assert not [cluster_id for cluster_id in ids if cluster_id.startswith("-")]
    assert all(len(cluster_id) == 22 for cluster_id in ids)
    assert len(set(ids)) == len(ids)

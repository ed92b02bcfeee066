from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from intelshare.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_acl_table_is_what_intelshare_acls_prints() -> None:
    """The README's full ACL table of the default network is the command's output, verbatim."""
    result = CliRunner().invoke(app, ["acls"])
    assert result.exit_code == 0
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<summary>The whole table.*?```\n(.*?)```", text, re.DOTALL)
    assert block is not None
    assert block.group(1) == result.stdout

from __future__ import annotations

import os

import pytest
from cdp_pipe import Browser, find_chromium


@pytest.fixture(scope="session")
def chromium_binary() -> str:
    """Debian's chromium; missing means skip, or fail where INTELSHARE_REQUIRE_BROWSER=1."""
    found = find_chromium()
    if found is None:
        message = "chromium not found (scripts/install-chromium installs Debian's package)"
        if os.environ.get("INTELSHARE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def browser(chromium_binary: str):
    """A headless chromium driven over the DevTools pipe, closed after the test."""
    started = Browser(chromium_binary)
    try:
        yield started
    finally:
        started.close()

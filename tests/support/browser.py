"""Headless Debian Chromium for the browser tests, driven by Playwright through
`executable_path` (never a downloaded browser).

`launch_chromium()` skips the test when Chromium or the playwright package is missing,
resolves `*.localhost` to 127.0.0.1 (RFC 6761 loopback, whatever the resolver thinks: pool
domains are reached by Host there), and closes the browser afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"


@contextlib.contextmanager
def launch_chromium() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--host-resolver-rules=MAP *.localhost 127.0.0.1",
                *(["--no-sandbox"] if os.geteuid() == 0 else []),
            ],
        )
        try:
            yield browser
        finally:
            browser.close()

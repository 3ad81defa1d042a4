"""Headless Chromium for the reviewer-page tests: Debian's /usr/bin/chromium driven by Playwright's sync API.

Playwright's own browser download is never used. ``chromium()`` yields a Browser; ``artifacts_dir()`` is
where screenshots go (``$ENRICH_TEST_ARTIFACTS`` or a temporary folder, printed so it can be found).
"""

from __future__ import annotations

import os
import struct
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Route, sync_playwright

CHROMIUM = Path(os.environ.get("ENRICH_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """One headless Chromium for a block (share it per test module: starting one takes about a second).
    Skips the test where Debian's Chromium is missing (``.ci/run`` installs it)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def placeholder_png(width: int = 320, height: int = 240, rgb: tuple[int, int, int] = (176, 190, 204)) -> bytes:
    """A plain PNG picture made here (stands in for a provider's image; the tests never leave 127.0.0.1)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", header), chunk(b"IDAT", zlib.compress(row * height)), chunk(b"IEND", b"")]
    )


def offline(context: BrowserContext, base_url: str) -> None:
    """Keep a browser context on the test server: an image from anywhere else gets a placeholder picture,
    any other request elsewhere is refused (no test waits on a network it does not have)."""
    picture = placeholder_png()

    def elsewhere(route: Route) -> None:
        if route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/png", body=picture)
        else:
            route.abort()

    context.route(lambda url: not url.startswith(base_url), elsewhere)


def artifacts_dir(name: str) -> Path:
    """A folder for this module's screenshots: ``$ENRICH_TEST_ARTIFACTS/name`` or a fresh temporary one."""
    root = os.environ.get("ENRICH_TEST_ARTIFACTS")
    folder = Path(root) / name if root else Path(tempfile.mkdtemp(prefix=f"enrich-{name}-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots of {name}: {folder}")
    return folder

"""Screenshots of the browser tests' pages: saved where they can be looked at, checked, and
listed in the pytest terminal summary.

`Screenshots(request, page)` (made before the page's first navigation, so that it sees
every navigation's status) saves `shots.take(page, "login", heading="Sign in")` as
`<dir>/<test>/NN-login.png`, where `<dir>` is $COGNATE_SCREENSHOT_DIR or
`<repo>/test-output/screenshots` and `<test>` is the test's node name made safe for a file
name (the folder is emptied when the test starts). Each image is checked before the test
goes on: a valid PNG (chunk CRCs, zlib stream, scanline filters) of the viewport's size
in device pixels, not blank (more than one colour); the page is checked too: no server
error (the last main-frame navigation's status < 500, no "Internal Server Error" text)
and the heading (`h1`) or text the step expects.

The PNG is decoded here with zlib and struct (no imaging library): only 8-bit, non-
interlaced greyscale/RGB(A), which is what Chromium writes; unfiltering stops at the
first pixel of a second colour, so a real page costs a few rows.

Each path is kept in the test's `user_properties` ("screenshot", path), which reach the
controller under pytest-xdist too; `summary()` (called by tests/conftest.py's
pytest_terminal_summary) lists them per test.
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ENV = "COGNATE_SCREENSHOT_DIR"
PROPERTY = "screenshot"
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> samples per pixel (8-bit)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def output_dir() -> Path:
    """Where the screenshots go: $COGNATE_SCREENSHOT_DIR, else <repo>/test-output/screenshots."""
    configured = os.environ.get(ENV)
    return Path(configured) if configured else REPO / "test-output" / "screenshots"


def folder_name(nodeid: str) -> str:
    """A test's node id as one file name: tests/e2e/test_x.py::test_y[sqlite] ->
    test_x.py-test_y-sqlite."""
    name = nodeid.rsplit("/", 1)[-1].replace("::", "-")
    return _UNSAFE.sub("-", name).strip("-")


class Screenshots:
    """The numbered screenshots of one test's pages, each checked as it is taken."""

    def __init__(self, request: pytest.FixtureRequest, page: Any) -> None:
        self.node = request.node
        self.folder = output_dir() / folder_name(request.node.nodeid)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.taken: list[Path] = []
        self.status: int | None = None  # of the last main-frame navigation, when seen
        page.on("response", lambda response: self._navigated(page, response))

    def _navigated(self, page: Any, response: Any) -> None:
        if response.request.is_navigation_request() and response.frame == page.main_frame:
            self.status = response.status

    def take(
        self, page: Any, name: str, *, heading: str | None = None, text: str | None = None
    ) -> Path:
        """Save the viewport as NN-<name>.png and check the image and the page: its `h1`
        is `heading`, its visible text contains `text` (each when given)."""
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path))
        self.taken.append(path)
        self.node.user_properties.append((PROPERTY, str(path)))
        body = page.inner_text("body")
        assert "Internal Server Error" not in body, f"{path}: the page shows a server error"
        assert self.status is None or self.status < 500, f"{path}: HTTP {self.status}"
        if heading is not None:
            shown = page.text_content("h1")
            assert (shown or "").strip() == heading, f"{path}: heading {shown!r}"
        if text is not None:
            assert text in body, f"{path}: {text!r} not in {body!r}"
        viewport = page.viewport_size
        scale = float(page.evaluate("window.devicePixelRatio"))
        size = (round(viewport["width"] * scale), round(viewport["height"] * scale))
        check_png(path, size)
        return path


def check_png(path: Path, size: tuple[int, int]) -> None:
    """Fail unless `path` is a valid PNG of `size` (width, height) with more than one colour."""
    width, height, channels, rows = decode_png(path.read_bytes())
    assert (width, height) == size, f"{path}: {width}x{height}, the viewport is {size}"
    assert _colours_differ(rows, width * channels, channels), f"{path}: blank (one colour)"


def decode_png(data: bytes) -> tuple[int, int, int, bytes]:
    """Width, height, samples per pixel and the filtered scanlines (each led by its filter
    byte) of an 8-bit non-interlaced PNG; every chunk's CRC and the zlib stream checked."""
    assert data.startswith(_SIGNATURE), "not a PNG (signature)"
    at, header, idat, ended = len(_SIGNATURE), b"", [], False
    while at < len(data) and not ended:
        assert at + 12 <= len(data), "truncated PNG chunk"
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert len(body) == length, f"truncated PNG chunk {kind!r}"
        assert zlib.crc32(kind + body) == crc, f"bad CRC in PNG chunk {kind!r}"
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat.append(body)
        ended = kind == b"IEND"
        at += 12 + length
    assert all((header, idat, ended)), "PNG without IHDR, IDAT or IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    supported = (depth, interlace) == (8, 0) and colour in _CHANNELS
    assert supported, f"unsupported PNG (bit depth {depth}, colour {colour}, interlace {interlace})"
    channels = _CHANNELS[colour]
    rows = zlib.decompress(b"".join(idat))
    stride = width * channels
    assert len(rows) == height * (stride + 1), "PNG image data of the wrong length"
    filters = rows[:: stride + 1]
    assert max(filters) <= 4, "unknown PNG scanline filter"
    return width, height, channels, rows


def _colours_differ(rows: bytes, stride: int, bpp: int) -> bool:
    """Whether the unfiltered image has two pixels of different colours (stops there)."""
    previous = bytearray(stride)
    first: bytes | None = None
    for start in range(0, len(rows), stride + 1):
        line = _unfilter(rows[start], rows[start + 1 : start + 1 + stride], previous, bpp)
        first = first if first is not None else bytes(line[:bpp])
        if line != first * (stride // bpp):
            return True
        previous = line
    return False


def _unfilter(kind: int, raw: bytes, prior: bytearray, bpp: int) -> bytearray:
    line = bytearray(raw)
    if kind == 1:
        for i in range(bpp, len(line)):
            line[i] = (line[i] + line[i - bpp]) & 0xFF
    elif kind == 2:
        line = bytearray((a + b) & 0xFF for a, b in zip(line, prior, strict=True))
    elif kind == 3:
        for i in range(len(line)):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prior[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(len(line)):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prior[i], prior[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
            line[i] = (line[i] + predictor) & 0xFF
    return line


def summary(reporter: Any) -> None:
    """The screenshots of this session, per test, for the terminal summary."""
    taken: dict[str, list[str]] = {}
    for reports in reporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for key, value in getattr(report, "user_properties", ()):
                if key == PROPERTY and value not in taken.setdefault(report.nodeid, []):
                    taken[report.nodeid].append(value)
    taken = {node: paths for node, paths in taken.items() if paths}
    if not taken:
        return
    count = sum(len(paths) for paths in taken.values())
    reporter.write_sep("-", f"screenshots ({count}, checked) in {output_dir()}")
    for node in sorted(taken):
        reporter.write_line(node)
        for path in taken[node]:
            reporter.write_line(f"    {path}")

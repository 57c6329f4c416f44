"""Make the README's screenshots in headless Chromium.

    python scripts/screenshots.py                      # docs/*.png
    python scripts/screenshots.py --model runs/model.keras --out docs --json

Starts `streamlit run app.py` on a free loopback port with a "my digits" store
of its own (a dozen drawn digits), draws a number on the canvas with mouse
strokes and opens "Why this digit", uploads a photo-like picture, plays a
round of the classroom quiz, shows the phone-join code and the my-digits
list, and saves a shot of each. The browser-driving helpers here (serve,
open_page, draw, settled_reading, photo_of) are shared with the end-to-end
tests in tests/e2e.
Needs the playwright package and Debian's Chromium; never `playwright install`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project root

from digit_core.strokes import TEMPLATES, Template, render  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CANVAS = "canvas.upper-canvas"  # the canvas layer that takes the mouse
READING = ".st-key-reading"  # the reading's container on Draw and Upload
UPLOAD = "input[type=file]"  # the file uploader's hidden input
START_TIMEOUT = 90  # s for the server to answer
TIMEOUT = 30  # s to wait for a page or a reading (the machine may be busy)
PX_PER_STEP = 4  # a mouse-move event every few pixels, like a real hand
SETTLE = 1.2  # s a reading must stay unchanged to count as final


# the app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `streamlit run app.py` on 127.0.0.1 and a free port; yield its URL.

    log: file for the server's output. env: extra environment variables, e.g.
    DIGITS_MODEL_PATH. Raises RuntimeError when the server does not come up.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def _wait_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            msg = f"streamlit exited with {server.returncode}:\n{log.read_text()}"
            raise RuntimeError(msg)
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    msg = f"streamlit did not answer at {url} in {START_TIMEOUT} s; see {log}"
    raise RuntimeError(msg)


# the browser


def launch(playwright):
    """Debian's Chromium, headless, with no background traffic."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def open_page(
    browser, url: str, ready: str = READING, width: int = 1280, height: int = 900
):
    """A fresh session on `url`, once the element `ready` (a CSS selector) is there."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(TIMEOUT * 1000)
    page.goto(url)
    # The first visit to a fresh server loads Keras and the model: allow longer.
    page.wait_for_selector(ready, state="attached", timeout=TIMEOUT * 3000)
    return page


def hover_canvas(page) -> dict[str, float]:
    """Hover the canvas so its toolbar slides out of the top-right strip.

    Until then the invisible toolbar swallows presses there (see NOTES.md).
    Returns the canvas's bounding box in page pixels.
    """
    canvas = page.locator(CANVAS)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    time.sleep(0.4)
    return box


def draw(page, template: Template, left: float, top: float, size: float) -> None:
    """Draw a template's strokes with the mouse into the square (left, top, size).

    left, top, size: canvas pixels; the template's unit box (x right, y down)
    is mapped onto that square. Example: (25, 25, 230) draws a digit about
    210 px tall in the middle of a 280 px canvas.
    """
    box = hover_canvas(page)
    for stroke in template:
        points = [
            (box["x"] + left + x * size, box["y"] + top + y * size) for x, y in stroke
        ]
        page.mouse.move(*points[0])
        page.mouse.down()
        for start, end in zip(points, points[1:], strict=False):
            steps = max(1, math.ceil(math.dist(start, end) / PX_PER_STEP))
            page.mouse.move(*end, steps=steps)
        page.mouse.up()
        time.sleep(0.1)


def settled_reading(page, changed_from: str | None = None) -> str:
    """The reading's text once it has stopped changing (and differs from before).

    Each stroke reruns the page once; the last rerun's reading is the answer.
    """
    deadline = time.monotonic() + TIMEOUT
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        text = page.inner_text(READING) if page.locator(READING).count() else ""
        if text != last:
            last, since = text, time.monotonic()
        elif text and text != changed_from and time.monotonic() - since >= SETTLE:
            return text
        time.sleep(0.15)
    msg = f"the reading did not settle in {TIMEOUT} s; last: {last!r}"
    raise AssertionError(msg)


# pictures


def photo_of(number: str, seed: int = 0) -> Image.Image:
    """Pen strokes as a phone sees them: dark ink, uneven warm paper, blur, noise.

    Each digit is digit_core.strokes.TEMPLATES[d][0] rendered 160 px square.
    """
    ink = np.concatenate([render(TEMPLATES[int(d)][0], size=160) for d in number], 1)
    h, w = ink.shape[0] + 80, ink.shape[1] + 120
    paper = np.zeros((h, w), np.float32)
    paper[40 : 40 + ink.shape[0], 60 : 60 + ink.shape[1]] = ink
    light = np.linspace(0.95, 0.7, w)[None, :] * np.linspace(1.0, 0.9, h)[:, None]
    noise = np.random.default_rng(seed).normal(0, 0.02, (h, w))
    gray = np.clip(light * (1 - 0.75 * paper) + noise, 0, 1)
    rgb = np.round(gray[..., None] * np.array([1.0, 0.96, 0.88]) * 255)
    return Image.fromarray(rgb.astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.2))


# the screenshots


def seed_my_digits(path: Path, digits: str = "0123456789471") -> None:
    """A fresh "my digits" store at `path` holding `digits` drawn from templates.

    Each is read by the bundled model as the app would, so the list shows
    real readings (and any misreading) beside the labels.
    """
    import io

    from digit_core import Recognizer
    from digit_core.samples import SampleStore, sample

    store, reader = SampleStore(path), Recognizer.load()
    for i, digit in enumerate(int(d) for d in digits):
        styles = TEMPLATES[digit]
        ink = render(styles[i % len(styles)], size=140, thickness=0.1)
        picture = Image.fromarray(np.round(255 * (1 - ink)).astype(np.uint8))
        png = io.BytesIO()
        picture.save(png, format="PNG")
        read = reader.recognize(np.asarray(picture), mode="single").predictions[0]
        saved = sample(png.getvalue(), read.input, digit, read.digit, read.confidence)
        store.add(saved)


def shoot(url: str, out: Path, number: str = "42", photo: str = "2026") -> list[Path]:
    """Save the README's shots of every page (see the module docstring)."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    size = 260 / len(number)  # canvas px per digit, side by side
    shots = []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = open_page(browser, url)
        for i, digit in enumerate(number):
            draw(page, TEMPLATES[int(digit)][0], 10 + i * size, 140 - size / 2, size)
        settled_reading(page)
        shots.append(out / "draw.png")
        page.screenshot(path=shots[-1])
        page.get_by_text("Why this digit").click()
        page.get_by_text("Grad-CAM over your picture").wait_for(timeout=TIMEOUT * 1000)
        page.locator(".stImage img").last.wait_for(timeout=TIMEOUT * 1000)
        page.get_by_text("Grad-CAM over your picture").scroll_into_view_if_needed()
        time.sleep(1)  # the images fade in
        shots.append(out / "why.png")
        page.screenshot(path=shots[-1])
        page.close()

        page = open_page(browser, f"{url}/upload", ready=UPLOAD)
        with tempfile.TemporaryDirectory() as folder:
            picture = Path(folder) / "number.jpg"
            photo_of(photo).save(picture, quality=85)
            page.locator(UPLOAD).set_input_files(picture)
            settled_reading(page)
        shots.append(out / "upload.png")
        page.screenshot(path=shots[-1])
        page.close()

        shots += shoot_classroom(browser, url, out)
        page = open_page(browser, f"{url}/my_digits", ready="[data-testid='stImage']")
        time.sleep(1)
        shots.append(out / "my-digits.png")
        page.screenshot(path=shots[-1])
        browser.close()
    return shots


def shoot_classroom(browser, url: str, out: Path) -> list[Path]:
    """A quiz round answered by drawing the digit asked, and the phone-join code."""
    page = open_page(browser, f"{url}/classroom", ready=CANVAS)
    asked = page.get_by_text("Draw a ").first.inner_text()  # "Draw a seven (7)"
    digit = int(asked.rsplit("(", 1)[1][0])
    draw(page, TEMPLATES[digit][0], 35, 35, 210)
    time.sleep(1.5)  # the canvas sends its last stroke a moment after the mouse-up
    page.get_by_role("button", name="Check").click()
    page.get_by_text("1 / 1", exact=False).or_(
        page.get_by_text("0 / 1", exact=False)
    ).first.wait_for(timeout=TIMEOUT * 1000)
    quiz = out / "classroom.png"
    page.screenshot(path=quiz)
    page.get_by_text("Join from a phone").click()
    page.get_by_text("Scan the code").wait_for(timeout=TIMEOUT * 1000)
    page.locator("[data-testid='stImage'] img").first.wait_for(timeout=TIMEOUT * 1000)
    time.sleep(1)
    join = out / "classroom-join.png"
    page.screenshot(path=join)
    page.close()
    return [quiz, join]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for PNGs")
    p.add_argument("--model", type=Path, help="a .keras model (default: bundled)")
    p.add_argument("--number", default="42", help="the number to draw")
    p.add_argument("--photo", default="2026", help="the number in the uploaded photo")
    p.add_argument("--json", action="store_true", help="print the paths as JSON")
    args = p.parse_args(argv)
    if not CHROMIUM.is_file():
        print(f"Chromium not found at {CHROMIUM}", file=sys.stderr)
        return 1
    env = {"DIGITS_MODEL_PATH": str(args.model.resolve())} if args.model else {}
    log = Path(tempfile.gettempdir()) / "digit-studio-screenshots.log"
    with tempfile.TemporaryDirectory() as folder:
        mine = Path(folder) / "my_digits.sqlite"
        seed_my_digits(mine)
        with serve(log, {**env, "DIGITS_SAMPLES_PATH": str(mine)}) as url:
            paths = shoot(url, args.out, args.number, args.photo)
    if args.json:
        print(json.dumps([str(path) for path in paths]))
    else:
        for path in paths:
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

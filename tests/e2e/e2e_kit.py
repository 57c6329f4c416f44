"""Helpers for the browser tests, on top of scripts/screenshots.py's drivers.

Strokes come from digit_core.strokes.TEMPLATES: polylines in a unit box, y
down, drawn into a square region of the canvas given in canvas pixels, so the
same table draws a digit large and centred or small in a corner.
"""

from __future__ import annotations

import re
import time

from scripts.screenshots import (
    READING,
    TIMEOUT,
    UPLOAD,
    draw,
    hover_canvas,
    open_page,
    photo_of,
    settled_reading,
)

__all__ = [
    "HINT",
    "READING",
    "TIMEOUT",
    "UPLOAD",
    "digits_in",
    "draw",
    "draw_and_read",
    "open_page",
    "shown_count",
    "photo_of",
    "reset",
    "settled_reading",
]

HINT = "Draw a digit"  # the start of the Draw page's hint


def digits_in(text: str) -> str:
    """The digits the reading starts with; "" for the hint or a message."""
    found = re.match(r"\s*(\d+)", text)
    return found.group(1) if found else ""


def draw_and_read(page, template, left: float, top: float, size: float) -> str:
    """Draw a template (see draw) and return the reading once it has changed.

    Waiting for a change, not only for a still text, keeps a slow first rerun
    from being mistaken for the answer.
    """
    before = page.inner_text(READING)
    draw(page, template, left, top, size)
    return settled_reading(page, changed_from=before)


def reset(page) -> str:
    """Press the canvas toolbar's Reset; returns the reading text afterwards."""
    before = page.inner_text(READING)
    hover_canvas(page)
    page.get_by_label("Reset canvas & history").click()
    return settled_reading(page, changed_from=before)


def shown_count(locator, timeout: float = TIMEOUT) -> int:
    """How many elements `locator` matches once it matches any (0 after `timeout` s).

    A rerun replaces elements: a count taken right after waiting for the
    first one can catch the moment between old and new.
    """
    deadline = time.monotonic() + timeout
    while (count := locator.count()) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    return count

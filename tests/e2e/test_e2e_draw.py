"""The Draw page in real Chromium: mouse strokes on the canvas are read."""

from __future__ import annotations

import pytest
from e2e_kit import (
    HINT,
    READING,
    digits_in,
    draw,
    draw_and_read,
    open_page,
    reset,
    settled_reading,
)

from digit_core.strokes import TEMPLATES

pytestmark = pytest.mark.e2e

LARGE = (25, 25, 230)  # left, top, size in canvas px: a digit about 210 px tall
SMALL = (12, 168, 100)  # bottom-left corner, about 90 px tall; clear of the toolbar
MIN_RIGHT = 9  # of 10 digits, each way


def read_each_digit(page, region, artifacts, name: str) -> dict[int, str]:
    """Draw 0-9 one after the other, resetting between; digit -> digits read."""
    read = {}
    for digit in range(10):
        read[digit] = digits_in(draw_and_read(page, TEMPLATES[digit][0], *region))
        page.screenshot(path=artifacts / f"{name}-{digit}.png")
        assert HINT in reset(page)
    return read


@pytest.fixture
def draw_page(browser, app_url):
    page = open_page(browser, app_url)
    yield page
    page.close()


@pytest.mark.parametrize(("name", "region"), [("large", LARGE), ("small", SMALL)])
def test_each_digit_is_read(draw_page, artifacts, name, region):
    read = read_each_digit(draw_page, region, artifacts, f"draw-{name}")
    right = sum(read[d] == str(d) for d in range(10))
    print(f"{name}: {right}/10 read right: {read}")
    assert right >= MIN_RIGHT, read


def test_a_two_digit_number_is_read(draw_page, artifacts):
    before = draw_page.inner_text(READING)
    draw(draw_page, TEMPLATES[4][0], 10, 60, 130)
    draw(draw_page, TEMPLATES[2][0], 135, 60, 130)
    text = settled_reading(draw_page, changed_from=before)
    draw_page.screenshot(path=artifacts / "draw-number.png")
    assert digits_in(text) == "42", text


def test_clearing_shows_the_hint(draw_page):
    assert HINT in draw_page.inner_text(READING)  # nothing drawn yet
    assert digits_in(draw_and_read(draw_page, TEMPLATES[3][0], *LARGE))
    after = reset(draw_page)
    assert HINT in after and not digits_in(after)


def test_phone_width_draws_and_reads(browser, app_url, artifacts):
    page = open_page(browser, app_url, width=390, height=844)
    try:
        text = draw_and_read(page, TEMPLATES[5][0], *LARGE)
        page.screenshot(path=artifacts / "draw-phone.png", full_page=True)
        assert digits_in(text) == "5", text
        page_width = page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= 390  # nothing sticks out sideways
    finally:
        page.close()

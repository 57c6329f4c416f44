"""pages/draw.py: drawings handed to the canvas through session state are read."""

from __future__ import annotations

import numpy as np
import pytest
from page_kit import canvas_state, page, side_by_side

from pages.common import READING

CANVAS = "draw.canvas"  # the canvas's key; pages/draw.py is a script, not imported


@pytest.fixture
def draw():
    at = page("pages/draw.py").run()
    assert not at.exception
    return at


def drawn(at, ink: np.ndarray):
    at.session_state[CANVAS] = canvas_state(ink)
    at.run()
    assert not at.exception
    return at.get_by_key(READING)


def test_empty_canvas_shows_the_hint(draw):
    reading = draw.get_by_key(READING)
    assert reading.info[0].value.startswith("Draw a digit")
    assert not reading.title


def test_cleared_canvas_shows_the_hint(draw):
    reading = drawn(draw, np.zeros((28, 28), np.uint8))  # after Reset: black, no ink
    assert reading.info[0].value.startswith("Draw a digit")
    assert not draw.get("plotly_chart")


@pytest.mark.parametrize("digit", range(10))
def test_an_mnist_digit_is_read(draw, digits, digit):
    reading = drawn(draw, digits[digit])
    assert reading.title[0].value == str(digit)
    assert "confident" in reading.markdown[0].value
    assert len(reading.get("plotly_chart")) == 1


def test_a_two_digit_number_is_read_with_boxes(draw, digits):
    reading = drawn(draw, side_by_side(digits[4], digits[2]))
    assert reading.title[0].value == "42"
    assert reading.markdown[0].value.startswith("2 digits")
    assert len(reading.image) == 1  # the boxes over the drawing


def test_single_mode_reads_one_digit(draw, digits):
    draw.radio(key="draw.mode").set_value("single").run()
    reading = drawn(draw, side_by_side(digits[4], digits[2]))
    assert len(reading.title[0].value) == 1


def test_what_the_model_sees_goes_down_to_the_input(draw, digits):
    draw.session_state["draw.seen"] = True  # the expander, opened
    drawn(draw, digits[3])
    (seen,) = draw.expander
    captions = [c.value for c in seen.caption]
    assert captions == ["The whole picture", "Digit 1, read as 3"]
    assert len(seen.image) == 2  # one row of pictures each


def test_brush_size_changes_keep_the_reading(draw, digits):
    drawn(draw, digits[7])
    draw.slider(key="draw.brush").set_value(30).run()
    assert not draw.exception
    assert draw.get_by_key(READING).title[0].value == "7"

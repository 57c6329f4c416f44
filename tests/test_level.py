"""digit_core.level: a row of digits that rises to the right is turned level."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from digit_core import level

DIGIT = (14, 20)  # a digit's box, w x h, in the rows below
STEP = 26  # px from one digit's left edge to the next


def row(
    degrees: float,
    heights: tuple[int, ...] = (20, 20, 20, 20),
    align: str = "bottom",
) -> list[level.Edges]:
    """Digit boxes (x0, y0, x1, y1) of a row turned `degrees` counter-clockwise
    (rising to the right), each digit aligned on the row's line by `align`."""
    turn = math.radians(degrees)
    edges = []
    for index, height in enumerate(heights):
        x0 = index * STEP
        y1 = {"bottom": 0, "centre": height // 2, "top": height}[align] + 100
        corners = [(x, y) for x in (x0, x0 + DIGIT[0]) for y in (y1 - height, y1)]
        turned = [  # about (0, 100); y runs down, so a counter-clockwise turn lifts x
            (x * math.cos(turn) + (y - 100) * math.sin(turn),
             100 - x * math.sin(turn) + (y - 100) * math.cos(turn))
            for x, y in corners
        ]  # fmt: skip
        xs, ys = zip(*turned, strict=True)
        edges.append((round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys))))
    return edges


@pytest.mark.parametrize("degrees", [4, 8, 15, 25])
@pytest.mark.parametrize("align", ["bottom", "centre", "top"])
def test_a_rising_row_gives_its_tilt(degrees, align):
    assert level.rising(row(degrees, align=align)) == pytest.approx(degrees, abs=1.5)


@pytest.mark.parametrize(
    "degrees",
    [0, 2, -5, -15, 40],
    ids=["level", "a wobble", "falling", "falling more", "steeper than a row"],
)
def test_other_rows_are_left_alone(degrees):
    assert level.rising(row(degrees)) is None


def test_two_digits_are_no_row():
    assert level.rising(row(10)[:2]) is None


@pytest.mark.parametrize("align", ["bottom", "centre", "top"])
def test_digits_of_mixed_sizes_on_one_line_are_level(align):
    """Only their line says how the row runs, not their tops or bottoms."""
    heights = (12, 32, 16, 28)
    assert level.rising(row(0, heights, align)) is None


def test_digits_off_any_line_are_no_row():
    zigzag = [(x0, y0 + (12 if i % 2 else 0), x1, y1 + (12 if i % 2 else 0))
              for i, (x0, y0, x1, y1) in enumerate(row(10))]  # fmt: skip
    assert level.rising(zigzag) is None


def test_small_marks_do_not_tilt_the_row():
    """A dot or a dash beside the digits (under half their height) is no digit."""
    marks = [(110, 40, 114, 44), (-20, 150, -16, 154)]
    assert level.rising(row(10) + marks) == pytest.approx(10, abs=1.5)


def test_turning_keeps_all_the_ink_and_maps_each_box_back():
    ink = np.zeros((60, 200), np.float32)
    dots = [(2, 2), (190, 50), (100, 30), (198, 58)]  # (x, y), corners included
    for x, y in dots:
        ink[y : y + 2, x : x + 2] = 1.0
    turn = level.turn(ink, 20.0)
    assert turn.degrees == 20.0 and turn.ink.dtype == np.float32
    assert turn.ink.sum() == pytest.approx(ink.sum(), rel=0.05)  # none cut off
    labels = (turn.ink > 0.25).astype(np.uint8)
    count, found, stats, _ = cv2.connectedComponentsWithStats(labels)
    assert count == len(dots) + 1
    boxes = []
    for label in range(1, count):
        x, y, w, h = stats[label, :4]
        mask = found[y : y + h, x : x + w] == label
        boxes.append(turn.box_back((int(x), int(y), int(w), int(h)), mask))
    for x, y in dots:  # each dot lies in the box of the piece it became
        assert any(
            bx - 1 <= x <= x + 2 <= bx + bw + 1 and by - 1 <= y <= y + 2 <= by + bh + 1
            for bx, by, bw, bh in boxes
        ), (x, y, boxes)
    for bx, by, bw, bh in boxes:  # within the picture given, about a dot's size
        assert min(bx, by) >= 0 and bx + bw <= 200 and by + bh <= 60
        assert bw <= 5 and bh <= 5


def test_rotated_keeps_dtype_and_fills_with_paper():
    paper = np.full((30, 80), 230, np.uint8)
    turned, matrix = level.rotated(paper, 12.0, fill=230.0)
    assert turned.dtype == np.uint8 and matrix.shape == (2, 3)
    assert turned.shape[0] > 30 and turned.shape[1] > 80
    assert (turned == 230).all()


boxes = st.lists(
    st.tuples(*[st.integers(-500, 500)] * 2, *[st.integers(1, 300)] * 2).map(
        lambda b: (b[0], b[1], b[0] + b[2], b[1] + b[3])
    ),
    max_size=8,
)


@given(boxes)
def test_any_boxes_give_a_tilt_in_range_or_none(edges):
    tilt = level.rising(edges)
    assert tilt is None or level.MIN_TILT <= tilt <= level.MAX_TILT

"""digit_core.mosaic: tiles placed row by row, gaps grey."""

from __future__ import annotations

import numpy as np
import pytest

from digit_core.mosaic import GAP_VALUE, mosaic


def test_the_docstring_example():
    assert mosaic(np.zeros((32, 26, 26), np.float32)).shape == (161, 161)


def test_tiles_go_row_by_row_with_grey_between():
    tiles = np.stack([np.full((2, 3), v, np.uint8) for v in (10, 20, 30)])
    out = mosaic(tiles, columns=2)
    grey = round(GAP_VALUE * 255)
    assert out.shape == (5, 7)
    assert out[0, 0] == 10 and out[0, 4] == 20 and out[3, 0] == 30
    assert out[2, 0] == grey and out[0, 3] == grey and out[3, 4] == grey  # gaps, hole


def test_one_pixel_tiles_stay_tiles():
    assert mosaic(np.ones((4, 1, 1), np.float32)).shape == (3, 3)


@pytest.mark.parametrize("bad", [np.zeros((0, 5, 5)), np.zeros((5, 5))])
def test_not_a_stack_of_tiles_is_refused(bad):
    with pytest.raises(ValueError, match="need tiles"):
        mosaic(bad)

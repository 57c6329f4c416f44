"""digit_core.renders: pictures made the way users make them, checked by property."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from digit_core import canvas, images, preprocess, renders


def dark_runs(columns: np.ndarray) -> int:
    """Runs of True in a 1-D bool array: separate pieces of ink along a row."""
    padded = np.concatenate([[False], columns, [False]]).astype(np.int8)
    return int((np.diff(padded) == 1).sum())


# scan


def test_scans_are_dark_ink_on_paper_with_a_margin(usps):
    x, _ = usps
    before = x[:20].copy()
    scans = [renders.scan(d) for d in x[:20]]
    np.testing.assert_array_equal(x[:20], before)  # input not modified
    side = 16 * renders.SCAN_SCALE + 2 * renders.SCAN_MARGIN
    m = renders.SCAN_MARGIN
    for picture in scans:
        assert picture.shape == (side, side) and picture.dtype == np.uint8
        ring = np.concatenate(
            [picture[:m].ravel(), picture[-m:].ravel(), picture[:, :m].ravel()]
        )
        assert (ring == renders.PAPER).all()
        assert picture.min() < 64  # ink is dark


def test_scans_shrink_back_to_the_usps_digit(usps):
    """Independent check: undo the drawing with OpenCV and compare with USPS."""
    x, _ = usps
    m = renders.SCAN_MARGIN
    for digit in x[:50]:
        inner = renders.scan(digit)[m:-m, m:-m].astype(np.float32)
        back = cv2.resize(inner, (16, 16), interpolation=cv2.INTER_AREA)
        assert np.abs(1.0 - back / 255.0 - digit).mean() < 0.05


def test_scan_scale_and_margin(usps):
    x, _ = usps
    assert renders.scan(x[0], scale=2, margin=3).shape == (38, 38)


def test_scans_go_through_preprocessing_mnist_style(usps):
    x, _ = usps
    for digit in x[:: len(x) // 10]:
        result = preprocess.preprocess(renders.scan(digit))
        assert result.shape == (28, 28) and result.dtype == np.float32
        row, col = preprocess.mass_centre(result)
        assert abs(row - 14) < 0.5 and abs(col - 14) < 0.5


# canvas_drawing


@pytest.mark.parametrize("digit", range(10))
def test_canvas_drawings_are_what_the_canvas_sends(digit):
    picture = renders.canvas_drawing(digit, np.random.default_rng(digit))
    side = renders.CANVAS_SIDE
    assert picture.shape == (side, side, 4) and picture.dtype == np.uint8
    assert (picture[..., 3] == 255).all()  # background baked in, opaque
    assert (picture[..., 0] == picture[..., 1]).all()  # white on black: grey
    assert (picture[..., 0] == picture[..., 2]).all()
    assert canvas.drawing(picture) is picture  # the page reads it as a drawing
    ink = canvas.ink_mask(picture)
    rows = np.flatnonzero(ink.any(axis=1))
    low, high = renders.CANVAS_HEIGHT
    assert 0.5 * low * side < rows[-1] - rows[0] < 1.2 * high * side


def test_canvas_pens_run_from_mouse_to_finger():
    """Stroke width (2 x the ink's mean distance to its edge) spans the pen range."""
    widths = []
    for seed in range(40):
        ink = canvas.ink_mask(renders.canvas_drawing(1, np.random.default_rng(seed)))
        inside = cv2.distanceTransform(ink.astype(np.uint8), cv2.DIST_L2, 5)
        widths.append(4 * float(inside[ink].mean()))  # mean distance ~ width / 4
    assert min(widths) < 12 and max(widths) > 25


def test_canvas_drawings_are_seeded():
    a, b, c = (renders.canvas_drawing(8, np.random.default_rng(s)) for s in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# phone_photo


def photo_gray(data: bytes) -> np.ndarray:
    picture = images.decode(data)
    assert picture.ndim == 3 and picture.shape[2] == 3 and picture.dtype == np.uint8
    return cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY).astype(np.float32)


def test_phone_photos_are_jpeg_bytes_the_app_decodes(mnist):
    digit = mnist.x_test[0] / 255.0
    data = renders.phone_photo(digit, np.random.default_rng(0))
    assert isinstance(data, bytes) and data[:2] == b"\xff\xd8"  # JPEG start
    height, width = photo_gray(data).shape
    low, high = renders.PHOTO_DIGIT
    assert height == width and low * 1.5 < height < high * 3


def test_phone_photos_show_ink_near_the_middle(mnist):
    """Ink: pixels much darker than the paper around them, light and shadow
    aside (pencil is only some 2/3 as bright as its paper)."""
    for index in range(10):
        rng = np.random.default_rng(index)
        gray = photo_gray(renders.phone_photo(mnist.x_test[index] / 255.0, rng))
        side = gray.shape[0]
        around = cv2.blur(gray, (side // 3, side // 3), borderType=cv2.BORDER_REFLECT)
        rows, cols = np.nonzero(gray < 0.8 * around)
        assert len(rows) > 0.005 * side * side
        assert 0.2 * side < rows.mean() < 0.8 * side
        assert 0.2 * side < cols.mean() < 0.8 * side
        assert rows.max() - rows.min() < 0.75 * side  # the paper shows around it


def test_phone_photos_are_seeded_and_vary(mnist):
    digit = mnist.x_test[1] / 255.0
    a, b = (renders.phone_photo(digit, np.random.default_rng(4)) for _ in range(2))
    assert a == b
    others = {renders.phone_photo(digit, np.random.default_rng(s)) for s in range(6)}
    assert len(others) == 6
    colours = [images.decode(p).reshape(-1, 3).mean(axis=0) for p in others]
    assert np.ptp(np.array(colours), axis=0).max() > 3  # paper and light vary


# number_row


def test_number_rows_hold_each_digit_apart(usps):
    x, _ = usps
    for seed in range(10):
        rng = np.random.default_rng(seed)
        digits = list(x[rng.integers(0, len(x), 4)])
        picture = renders.number_row(digits, rng)
        assert picture.ndim == 2 and picture.dtype == np.uint8
        assert picture.shape[0] == 3 * renders.ROW_HEIGHT
        assert picture.min() < 100 and np.median(picture) > 200  # dark on light
        ink = picture < (int(picture.min()) + np.median(picture)) / 2
        assert dark_runs(ink.any(axis=0)) == 4
        rows = np.flatnonzero(ink.any(axis=1))
        assert rows[0] > 0 and rows[-1] < picture.shape[0] - 1  # paper all round


def test_number_rows_are_seeded(usps):
    x, _ = usps
    a, b, c = (
        renders.number_row(list(x[:3]), np.random.default_rng(s)) for s in (5, 5, 6)
    )
    np.testing.assert_array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)


def test_tilted_rows_turn_within_the_limit_and_keep_their_ink(usps):
    x, _ = usps
    picture = renders.number_row(list(x[:4]), np.random.default_rng(0))
    for seed in range(10):
        turned = renders.tilted(picture, np.random.default_rng(seed))
        assert turned.dtype == np.uint8 and np.median(turned) == np.median(picture)
        ink = turned < 128
        assert ink.sum() == pytest.approx((picture < 128).sum(), rel=0.05)
        rows = np.flatnonzero(ink.any(axis=1))
        cols = np.flatnonzero(ink.any(axis=0))  # the row's extent, turned
        rise = math.atan2(rows[-1] - rows[0], cols[-1] - cols[0])
        assert rows[0] > 0 and rows[-1] < turned.shape[0] - 1  # paper all round
        height = (picture < 128).any(axis=1).sum()
        assert math.degrees(rise) <= renders.ROW_TILT + math.degrees(
            math.atan2(height, cols[-1] - cols[0])
        )


# tight crop


def test_tight_crops_have_ink_on_every_edge_in_either_polarity(usps):
    x, _ = usps
    polarities = set()
    for seed in range(20):
        picture = renders.tight_crop(x[seed], np.random.default_rng(seed))
        assert picture.ndim == 2 and picture.dtype == np.uint8
        h, w = picture.shape
        assert 16 <= max(h, w) <= 16 * renders.TIGHT_SCALE[1] + 1
        dark = np.median(picture) > 127  # paper is most of the picture
        ink = picture != (255 if dark else 0)  # a faint blur at an edge counts
        for edge in (ink[0], ink[-1], ink[:, 0], ink[:, -1]):
            assert edge.any(), seed  # no margin of bare paper on any side
        polarities.add(dark)
    assert polarities == {True, False}


def test_tight_crops_are_seeded(usps):
    x, _ = usps
    a, b = (renders.tight_crop(x[0], np.random.default_rng(4)) for _ in range(2))
    np.testing.assert_array_equal(a, b)

"""digit_core.canvas: canvas pixels in, RGBA or None out."""

from __future__ import annotations

import base64
import io

import cv2
import numpy as np
import pytest
from PIL import Image

from digit_core import canvas, strokes


def blank(h: int = 280, w: int = 280) -> np.ndarray:
    """What the canvas sends after Reset: the black background, opaque."""
    pixels = np.zeros((h, w, 4), np.uint8)
    pixels[..., 3] = 255
    return pixels


def with_stroke(pixels: np.ndarray) -> np.ndarray:
    drawn = pixels.copy()
    cv2.line(drawn, (60, 140), (220, 140), (255, 255, 255, 255), 20)
    return drawn


def test_nothing_sent_yet_is_none():
    assert canvas.drawing(None) is None


@pytest.mark.parametrize(
    "pixels",
    [
        blank(),
        np.zeros((280, 280, 4), np.uint8),  # cleared to transparent black
        np.zeros((0, 0, 4), np.uint8),
        np.zeros((280, 280), np.uint8),
    ],
    ids=["reset", "transparent", "empty", "gray"],
)
def test_no_ink_is_none(pixels):
    assert canvas.drawing(pixels) is None


def test_a_stray_tap_is_not_a_digit():
    pixels = blank()
    pixels[10:13, 10:13, :3] = 255  # 9 pixels, under MIN_INK_PIXELS
    assert canvas.drawing(pixels) is None


def test_a_stroke_comes_back_unchanged():
    pixels = with_stroke(blank())
    before = pixels.copy()
    result = canvas.drawing(pixels)
    assert result is not None
    assert result.shape == (280, 280, 4) and result.dtype == np.uint8
    np.testing.assert_array_equal(result, before)
    np.testing.assert_array_equal(pixels, before)  # input not modified


def test_ink_mask_counts_the_stroke_like_a_threshold_does():
    pixels = with_stroke(blank())
    expected = int((pixels[..., 0] > canvas.INK_DIFFERENCE).sum())  # oracle: red > 64
    assert int(canvas.ink_mask(pixels).sum()) == expected
    assert expected > 160 * 15


def test_transparent_ink_does_not_count():
    pixels = with_stroke(blank())
    pixels[..., 3] = 0
    assert not canvas.ink_mask(pixels).any()


def test_rgb_gets_an_opaque_alpha():
    rgb = with_stroke(blank())[..., :3]
    result = canvas.drawing(rgb)
    assert result is not None and result.shape == (280, 280, 4)
    assert (result[..., 3] == 255).all()


def test_other_backgrounds():
    pixels = np.full((100, 100, 4), 255, np.uint8)  # white paper
    assert canvas.drawing(pixels, background=(255, 255, 255)) is None
    cv2.circle(pixels, (50, 50), 20, (0, 0, 0, 255), 6)
    assert canvas.drawing(pixels, background=(255, 255, 255)) is not None


def decode(url: str) -> np.ndarray:
    header, encoded = url.split(";base64,", 1)
    assert header == "data:image/png"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded))))


def test_png_data_url_is_a_canvas_picture():
    ink = strokes.render(strokes.TEMPLATES[7][0])  # (112, 112), ink high
    pixels = decode(canvas.png_data_url(ink))
    assert pixels.shape == (280, 280, 4) and pixels.dtype == np.uint8
    assert (pixels[..., 3] == 255).all()
    result = canvas.drawing(pixels)
    assert result is not None
    # Same ink, same place: compare with the template enlarged independently.
    big = cv2.resize(ink, (280, 280), interpolation=cv2.INTER_LINEAR) > 0.5
    mask = canvas.ink_mask(pixels)
    overlap = (big & mask).sum() / max(1, (big | mask).sum())
    assert overlap > 0.8


def test_png_data_url_of_a_blank_is_blank():
    assert canvas.drawing(decode(canvas.png_data_url(np.zeros((28, 28))))) is None

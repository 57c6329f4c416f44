"""The drawing canvas's pixels: from its result to an RGBA array, or None.

The Draw page's canvas (streamlit-drawable-canvas) paints white ink on a black
background and sends its picture back as (h, w, 4) uint8 RGBA, the background
baked in (alpha 255 everywhere). Before the first stroke it sends nothing, and
after "Reset" it still sends a picture, only without ink; both read as None, so
the page shows a hint instead of a prediction. Also here: the inverse, a
picture as the PNG data URL the canvas sends, which tests hand to the page.
"""

from __future__ import annotations

import base64
import io

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

BACKGROUND_COLOR = "#000000"  # canvas background; the page passes it to st_canvas
STROKE_COLOR = "#FFFFFF"  # pen colour: white ink on black, as MNIST stores it
BACKGROUND_RGB = (0, 0, 0)  # BACKGROUND_COLOR as numbers
INK_DIFFERENCE = 64  # a pixel is ink when a channel is this far from the background
MIN_INK_PIXELS = 20  # fewer ink pixels is a stray tap, not a digit (a dot is ~300)


def ink_mask(
    rgba: NDArray[np.uint8], background: tuple[int, int, int] = BACKGROUND_RGB
) -> NDArray[np.bool_]:
    """Where the pen has been: opaque pixels whose colour is far from the background.

    rgba: (h, w, 4) uint8. Transparent pixels never count, so a canvas that was
    cleared to transparent black reads as blank too. Returns (h, w) bool.
    """
    pixels = np.ascontiguousarray(rgba)
    red, green, blue, alpha = cv2.split(pixels)  # OpenCV: 20x numpy's strided copy
    distances = [
        cv2.absdiff(channel, np.full_like(channel, level))  # no uint8 overflow
        for channel, level in zip((red, green, blue), background, strict=True)
    ]
    farthest = cv2.max(cv2.max(distances[0], distances[1]), distances[2])
    return (farthest > INK_DIFFERENCE) & (alpha >= 128)


def drawing(
    image_data: NDArray | None,
    background: tuple[int, int, int] = BACKGROUND_RGB,
) -> NDArray[np.uint8] | None:
    """The canvas picture as (h, w, 4) uint8 RGBA, or None when there is no ink.

    image_data: the canvas result's `image_data`: None before the first send,
    otherwise (h, w, 4) uint8 RGBA (an (h, w, 3) or (h, w) picture is given an
    opaque alpha). Not modified. None also for an empty array and for a picture
    with fewer than MIN_INK_PIXELS ink pixels (a cleared canvas).
    """
    if image_data is None:
        return None
    pixels = np.asarray(image_data)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4) or pixels.size == 0:
        return None
    if pixels.dtype != np.uint8:
        pixels = np.clip(pixels, 0, 255).astype(np.uint8)
    if pixels.shape[2] == 3:
        opaque = np.full((*pixels.shape[:2], 1), 255, np.uint8)
        pixels = np.concatenate([pixels, opaque], axis=2)
    if int(ink_mask(pixels, background).sum()) < MIN_INK_PIXELS:
        return None
    return pixels


def png_data_url(ink: NDArray[np.floating], size: int = 280) -> str:
    """An ink image as the canvas would send it: a PNG data URL of white on black.

    ink: (h, w) float in [0, 1], ink high (e.g. strokes.render or MNIST / 255);
    scaled to size x size pixels. Used to hand the Draw page a drawing in tests.
    """
    gray = np.clip(np.asarray(ink, dtype=np.float64), 0.0, 1.0)
    picture = Image.fromarray(np.round(gray * 255).astype(np.uint8))
    picture = picture.resize((size, size), Image.Resampling.BILINEAR).convert("RGBA")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()

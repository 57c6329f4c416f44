"""Figures and pictures for the app: plotly charts and annotated images, no streamlit.

Charts:
  probability_bars   the ten probabilities of one or more digits
Pictures (uint8 arrays that st.image shows as they are):
  to_uint8           a pipeline step's image, float [0, 1] or uint8, as uint8
  pixelated          a small image enlarged with hard pixel edges (nearest neighbour)
  for_display        a step's image as shown: small ones pixelated, others as uint8
  with_boxes         a picture with each digit's box and reading drawn over it
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import plotly.graph_objects as go
from numpy.typing import NDArray

Box = tuple[int, int, int, int]  # x, y, w, h in the picture's pixels

BEST = "#FF4B4B"  # the digit read: Streamlit's primary colour
OTHERS = "#A3A8B8"  # the nine other digits
PALETTE = ("#FF4B4B", "#1C83E1", "#21C354", "#FFA421", "#803DF5", "#00C0F2")
BOX_COLOURS = ((255, 75, 75), (28, 131, 225), (33, 195, 84), (255, 164, 33))  # RGB
SMALL = 32  # px: images this small (the 28x28 input) are shown pixelated
ENLARGE = 6  # px per pixel for small images: 28x28 becomes 168x168
SHOW_TEXT_ABOVE = 0.005  # bars under half a percent get no label: they read as 0
BAR_HEIGHT = 220  # px: small enough to sit beside the canvas on a laptop


# charts


def probability_bars(
    probabilities: Sequence[Sequence[float]], names: Sequence[str] | None = None
) -> go.Figure:
    """Bar chart of P(digit) for digits 0-9: one group of bars per digit read.

    probabilities: one row of 10 floats in [0, 1] per digit read (index = digit).
    names: a legend label per row (e.g. "1st: 4"); used only with several rows.
    With one row the most likely digit is coloured and the rest are grey.
    """
    rows = [tuple(float(p) for p in row) for row in probabilities]
    if not rows or any(len(row) != 10 for row in rows):
        msg = f"need rows of 10 probabilities, got lengths {[len(r) for r in rows]}"
        raise ValueError(msg)
    digits = list(range(10))
    if len(rows) == 1:
        best = int(np.argmax(rows[0]))
        colours = [BEST if d == best else OTHERS for d in digits]
        traces = [_bars(rows[0], colours, name="P(digit)")]
    else:
        default = [f"#{i + 1}" for i in range(len(rows))]
        labels = list(names) if names is not None else default
        traces = [
            _bars(row, PALETTE[i % len(PALETTE)], name=labels[i])
            for i, row in enumerate(rows)
        ]
    figure = go.Figure(traces)
    figure.update_layout(
        height=BAR_HEIGHT,
        margin={"l": 0, "r": 0, "t": 8, "b": 0},
        barmode="group",
        showlegend=len(rows) > 1,
        legend={"orientation": "h", "y": 1.12, "x": 0},
        xaxis={"tickmode": "array", "tickvals": digits, "title": None},
        yaxis={"range": [0, 1.08], "tickformat": ".0%", "title": None},
    )
    return figure


def _bars(row: Sequence[float], colour: str | list[str], name: str) -> go.Bar:
    text = [f"{p:.0%}" if p >= SHOW_TEXT_ABOVE else "" for p in row]
    return go.Bar(
        x=list(range(10)),
        y=list(row),
        name=name,
        marker_color=colour,
        text=text,
        textposition="outside",
        textfont={"size": 11},
        constraintext="none",  # grouped bars are thin: keep labels readable
        cliponaxis=False,
        hovertemplate="digit %{x}: %{y:.1%}<extra></extra>",
    )


# pictures


def to_uint8(image: NDArray) -> NDArray[np.uint8]:
    """A step's image as uint8 for display: (h, w), (h, w, 3) or (h, w, 4).

    image: float in [0, 1] (clipped), uint8, or another integer type (scaled by
    its range, e.g. uint16 / 257); (h, w, 2) gray + alpha keeps only its gray
    channel. Not modified.
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] in (1, 2):
        array = array[..., 0]
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if np.issubdtype(array.dtype, np.integer):
        array = array / np.iinfo(array.dtype).max
    return np.round(np.clip(array, 0.0, 1.0) * 255).astype(np.uint8)


def pixelated(image: NDArray, scale: int = 8) -> NDArray[np.uint8]:
    """Enlarge each pixel to a scale x scale block, so a 28x28 input looks its size.

    Browsers smooth small images they stretch; enlarging here first keeps the
    blocks the network sees. image: (h, w[, c]), see to_uint8. Returns
    (h * scale, w * scale[, c]) uint8.
    """
    if scale < 1:
        msg = f"scale must be at least 1, not {scale}"
        raise ValueError(msg)
    pixels = to_uint8(image)
    return np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)


def for_display(image: NDArray, square: bool = False) -> NDArray[np.uint8]:
    """A pipeline step's image as shown: enlarged and pixelated when it is tiny.

    image: (h, w[, c]), see to_uint8. square: pad with 0 (paper, for ink-high
    images) to a centred square first, so a thin 1 is not shown as a tall
    strip. Images up to SMALL px a side are then enlarged ENLARGE times
    (28x28 -> 168x168); larger ones only become uint8.
    """
    pixels = to_uint8(image)
    if square:
        h, w = pixels.shape[:2]
        side = max(h, w)
        top, left = (side - h) // 2, (side - w) // 2
        pad = [(top, side - h - top), (left, side - w - left)]
        pixels = np.pad(pixels, pad + [(0, 0)] * (pixels.ndim - 2))
    if max(pixels.shape[:2]) <= SMALL:
        return pixelated(pixels, ENLARGE)
    return pixels


def _rgb(image: NDArray) -> NDArray[np.uint8]:
    """Any picture as (h, w, 3) uint8; transparency over a backdrop showing the ink."""
    pixels = to_uint8(image)
    if pixels.ndim == 2:
        return np.repeat(pixels[..., None], 3, axis=2)
    if pixels.shape[2] == 3:
        return pixels
    colour = pixels[..., :3].astype(np.float32)
    alpha = pixels[..., 3:].astype(np.float32) / 255.0
    opaque = alpha[..., 0] > 0.5
    dark_ink = not opaque.any() or float(colour[opaque].mean()) < 128
    backdrop = 255.0 if dark_ink else 0.0
    return np.round(colour * alpha + backdrop * (1.0 - alpha)).astype(np.uint8)


def with_boxes(
    image: NDArray,
    boxes: Sequence[Box],
    labels: Sequence[str],
    source_size: tuple[int, int] | None = None,
    max_side: int = 720,
) -> NDArray[np.uint8]:
    """The picture, shrunk to at most max_side, with each box and its label drawn.

    image: (h, w[, 1-4]) uint8 or float in [0, 1], not modified; it may be a
    scaled copy of the picture the boxes were found in. boxes: (x, y, w, h) in
    pixels of that picture, whose (width, height) is source_size (default: the
    image's own). Returns (H, W, 3) uint8 RGB, where H, W = h, w scaled by
    min(1, max_side / max(h, w)). Example: a 2000x1000 photo's box (500, 100,
    200, 400) drawn on its 1000x500 working copy with max_side 500 lands at
    (125, 25, 50, 100).
    """
    if len(boxes) != len(labels):
        msg = f"{len(boxes)} boxes but {len(labels)} labels"
        raise ValueError(msg)
    picture = _rgb(image)
    h, w = picture.shape[:2]
    shrink = min(1.0, max_side / max(h, w))
    if shrink < 1.0:
        size = (max(1, round(w * shrink)), max(1, round(h * shrink)))
        picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
    else:
        picture = picture.copy()
    source_width = source_size[0] if source_size is not None else w
    scale = picture.shape[1] / source_width  # source pixels -> output pixels
    side = max(picture.shape[:2])
    thickness = max(2, round(side / 150))
    font_scale = max(0.6, side / 400)
    for i, ((x, y, bw, bh), label) in enumerate(zip(boxes, labels, strict=True)):
        colour = BOX_COLOURS[i % len(BOX_COLOURS)]
        top_left = (round(x * scale), round(y * scale))
        bottom_right = (round((x + bw) * scale), round((y + bh) * scale))
        cv2.rectangle(picture, top_left, bottom_right, colour, thickness)
        (_, text_h), _ = cv2.getTextSize(
            label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness
        )
        above = top_left[1] - thickness - 2
        baseline_y = above if above - text_h >= 0 else bottom_right[1] + text_h + 4
        cv2.putText(
            picture,
            label,
            (top_left[0], min(baseline_y, picture.shape[0] - 2)),
            cv2.FONT_HERSHEY_SIMPLEX,
            font_scale,
            colour,
            thickness,
            cv2.LINE_AA,
        )
    return picture

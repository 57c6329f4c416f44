"""Figures and pictures for the app: plotly charts and annotated images, no streamlit.

Charts:
  probability_bars   the ten probabilities of one or more digits
  learning_curves    training and validation loss and accuracy, live while training
  confusion_matrix   true digit x digit read, with a clickable point on every cell
  precision_recall   per-digit precision and recall
Pictures (uint8 arrays that st.image shows as they are):
  to_uint8           a pipeline step's image, float [0, 1] or uint8, as uint8
  pixelated          a small image enlarged with hard pixel edges (nearest neighbour)
  for_display        a step's image as shown: small ones pixelated, others as uint8
  with_boxes         a picture with each digit's box and reading drawn over it
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np
import plotly.graph_objects as go
from numpy.typing import NDArray
from plotly.subplots import make_subplots

if TYPE_CHECKING:
    from digit_core.jobs import CurvePoint
    from digit_core.train import EpochMetrics

Box = tuple[int, int, int, int]  # x, y, w, h in the picture's pixels

BEST = "#FF4B4B"  # the digit read: Streamlit's primary colour
OTHERS = "#A3A8B8"  # the nine other digits
PALETTE = ("#FF4B4B", "#1C83E1", "#21C354", "#FFA421", "#803DF5", "#00C0F2")
BOX_COLOURS = ((255, 75, 75), (28, 131, 225), (33, 195, 84), (255, 164, 33))  # RGB
SMALL = 32  # px: images this small (the 28x28 input) are shown pixelated
ENLARGE = 6  # px per pixel for small images: 28x28 becomes 168x168
SHOW_TEXT_ABOVE = 0.005  # bars under half a percent get no label: they read as 0
BAR_HEIGHT = 220  # px: small enough to sit beside the canvas on a laptop
CURVES_HEIGHT = 300  # px: loss and accuracy side by side
MATRIX_HEIGHT = 480  # px: 10 rows of about 40 px, plus the axis titles
CELL_MARKER = 36  # px: the clickable square on each cell, a little under a cell
TRAINING, VALIDATION = "#1C83E1", "#FF4B4B"  # curve colours


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
    # One constructor call from plain dicts: 7x faster than go.Bar objects and
    # update_layout (~4 vs ~30 ms, measured), which every stroke on the Draw
    # page pays while holding the GIL.
    layout = {
        "height": BAR_HEIGHT,
        "margin": {"l": 0, "r": 0, "t": 8, "b": 0},
        "barmode": "group",
        "showlegend": len(rows) > 1,
        "legend": {"orientation": "h", "y": 1.12, "x": 0},
        "xaxis": {"tickmode": "array", "tickvals": digits, "title": None},
        "yaxis": {"range": [0, 1.08], "tickformat": ".0%", "title": None},
    }
    return go.Figure(data=traces, layout=layout)


def _bars(row: Sequence[float], colour: str | list[str], name: str) -> dict:
    """One bar trace as a plain dict (see probability_bars for why)."""
    text = [f"{p:.0%}" if p >= SHOW_TEXT_ABOVE else "" for p in row]
    return {
        "type": "bar",
        "x": list(range(10)),
        "y": list(row),
        "name": name,
        "marker": {"color": colour},
        "text": text,
        "textposition": "outside",
        "textfont": {"size": 11},
        "constraintext": "none",  # grouped bars are thin: keep labels readable
        "cliponaxis": False,
        "hovertemplate": "digit %{x}: %{y:.1%}<extra></extra>",
    }


def learning_curves(
    history: Sequence[EpochMetrics], curve: Sequence[CurvePoint] = ()
) -> go.Figure:
    """Loss (left) and accuracy (right) against epochs, training and validation.

    history: finished epochs (x = epoch number, 1-based). curve: the running
    training mean inside epochs (x = fractional epochs done), drawn thin so the
    chart moves between epochs. Validation NaNs (no validation split) are left out.
    """
    figure = make_subplots(
        rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.12
    )
    epochs = [m.epoch for m in history]
    series = (
        ("loss", [m.loss for m in history], [m.val_loss for m in history]),
        ("accuracy", [m.accuracy for m in history], [m.val_accuracy for m in history]),
    )
    for col, (what, train_values, val_values) in enumerate(series, start=1):
        first = col == 1  # one legend entry per series, from the left chart
        figure.add_trace(
            go.Scatter(
                x=[p.epoch for p in curve],
                y=[getattr(p, what) for p in curve],
                mode="lines",
                line={"color": TRAINING, "width": 1},
                opacity=0.5,
                name="training, running",
                showlegend=first,
                hovertemplate=f"epoch %{{x:.2f}}: {what} %{{y:.4f}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        for name, values, colour in (
            ("training", train_values, TRAINING),
            ("validation", val_values, VALIDATION),
        ):
            kept = [(e, v) for e, v in zip(epochs, values, strict=True) if _real(v)]
            figure.add_trace(
                go.Scatter(
                    x=[e for e, _ in kept],
                    y=[v for _, v in kept],
                    mode="lines+markers",
                    line={"color": colour, "width": 2},
                    name=name,
                    showlegend=first,
                    hovertemplate=f"epoch %{{x}}: {name} {what} %{{y:.4f}}"
                    "<extra></extra>",
                ),
                row=1,
                col=col,
            )
    last = max([len(history), *(math.ceil(p.epoch) for p in curve), 1])
    figure.update_xaxes(title_text="epoch", range=[0, last + 0.1], fixedrange=True)
    figure.update_yaxes(fixedrange=True, rangemode="tozero", row=1, col=1)
    figure.update_yaxes(tickformat=".0%", fixedrange=True, row=1, col=2)
    figure.update_layout(
        height=CURVES_HEIGHT,
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        legend={"orientation": "h", "y": -0.25, "x": 0},
    )
    return figure


def _real(value: float) -> bool:
    return not math.isnan(value)


def confusion_matrix(
    confusion: Sequence[Sequence[int]], normalized: bool = False
) -> go.Figure:
    """A 10 x 10 matrix, true digit down, digit read across, with clickable cells.

    confusion[t][p] counts test images of digit t read as p. normalized shows
    each row as percentages of its true digit (recall on the diagonal). Colour
    follows log(1 + count), so a handful of mistakes stands out next to the
    thousand right answers. Plotly sends no clicks on heatmap cells, so a
    near-invisible square marker sits on each cell; a click selects it, and its
    customdata is [true, read, count] (see NOTES.md).
    """
    counts = np.asarray(confusion, dtype=np.int64)
    if counts.shape != (10, 10):
        msg = f"confusion must be 10 x 10, not {counts.shape}"
        raise ValueError(msg)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    if normalized:
        text = [[f"{v:.1%}" if v else "" for v in row] for row in shares]
    else:
        text = [[str(v) if v else "" for v in row] for row in counts]
    digits = list(range(10))
    cells = go.Heatmap(
        x=digits,
        y=digits,
        z=np.log1p(counts),
        text=text,
        texttemplate="%{text}",
        colorscale="Blues",
        showscale=False,
        hoverinfo="skip",
        xgap=2,
        ygap=2,
    )
    true, read = np.divmod(np.arange(100), 10)
    value = shares[true, read] if normalized else counts[true, read]
    hover = "%{customdata[3]:.1%}" if normalized else "%{customdata[2]} images"
    clicks = go.Scatter(
        x=read,
        y=true,
        mode="markers",
        marker={"symbol": "square", "size": CELL_MARKER, "color": BEST, "opacity": 0},
        selected={"marker": {"opacity": 0.35}},
        unselected={"marker": {"opacity": 0.01}},
        opacity=1.0,
        customdata=np.stack([true, read, counts[true, read], value], axis=1),
        hovertemplate=f"true %{{y}}, read as %{{x}}: {hover}<extra></extra>",
        name="cells",
        showlegend=False,
    )
    figure = go.Figure([cells, clicks])
    axis = {
        "tickmode": "array", "tickvals": digits, "fixedrange": True,
        "constrain": "domain",  # square cells, no empty band around the grid
    }  # fmt: skip
    figure.update_layout(
        height=MATRIX_HEIGHT,
        margin={"l": 0, "r": 0, "t": 8, "b": 0},
        xaxis={**axis, "title": "read as", "side": "top"},
        yaxis={**axis, "title": "true digit", "autorange": "reversed",
               "scaleanchor": "x"},
        plot_bgcolor="rgba(0,0,0,0)",
        clickmode="event+select",
        dragmode=False,
    )  # fmt: skip
    return figure


def precision_recall(precision: Sequence[float], recall: Sequence[float]) -> go.Figure:
    """Per-digit precision and recall, grouped; the y axis starts near the lowest.

    precision[d]: of the images read as d, the share that are d. recall[d]: of
    the images of d, the share read as d. Both in [0, 1], index = digit.
    """
    if len(precision) != 10 or len(recall) != 10:
        msg = f"need 10 values each, got {len(precision)} and {len(recall)}"
        raise ValueError(msg)
    digits = list(range(10))
    figure = go.Figure(
        [
            go.Bar(
                x=digits,
                y=list(values),
                name=name,
                marker_color=colour,
                text=[f"{v:.1%}" for v in values],
                textposition="outside",
                textfont={"size": 10},
                cliponaxis=False,
                hovertemplate=f"digit %{{x}}: {name} %{{y:.2%}}<extra></extra>",
            )
            for name, values, colour in (
                ("precision", precision, TRAINING),
                ("recall", recall, VALIDATION),
            )
        ]
    )
    low = min(*precision, *recall)
    figure.update_layout(
        height=BAR_HEIGHT + 40,
        margin={"l": 0, "r": 0, "t": 24, "b": 0},
        barmode="group",
        legend={"orientation": "h", "y": 1.15, "x": 0},
        xaxis={"tickmode": "array", "tickvals": digits, "title": None},
        yaxis={"range": [max(0.0, low - 0.05), 1.02], "tickformat": ".0%"},
    )
    return figure


def probability_caption(probabilities: Sequence[float], top: int = 2) -> str:
    """The most likely digits with their probabilities: "9 87% · 4 12%".

    probabilities: 10 floats in [0, 1], index = digit. Digits under half a
    percent are left out, except the first.
    """
    order = np.argsort(np.asarray(probabilities))[::-1][:top]
    parts = [
        f"{d} {probabilities[d]:.0%}"
        for i, d in enumerate(order.tolist())
        if i == 0 or probabilities[d] >= SHOW_TEXT_ABOVE
    ]
    return " · ".join(parts)


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
    """Any picture as (h, w, 3) uint8; transparency over a backdrop showing the ink.

    In OpenCV, not numpy floats: a 280x280 canvas costs well under 1 ms, not
    7 ms, on every stroke of a number on the Draw page.
    """
    pixels = to_uint8(image)
    if pixels.ndim == 2:
        return cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB)
    channels = pixels.shape[2]
    if channels == 3:
        return pixels
    code = cv2.COLOR_RGBA2RGB if channels == 4 else cv2.COLOR_GRAY2RGB
    colour = cv2.cvtColor(pixels if channels == 4 else pixels[..., 0], code)
    alpha = cv2.cvtColor(np.ascontiguousarray(pixels[..., -1]), cv2.COLOR_GRAY2RGB)
    opaque = (alpha[..., 0] > 127).view(np.uint8)
    dark_ink = not opaque.any() or np.mean(cv2.mean(colour, mask=opaque)[:3]) < 128
    if dark_ink:  # over white: 255 - (255 - colour) * alpha
        faded = cv2.multiply(cv2.bitwise_not(colour), alpha, scale=1 / 255)
        return cv2.bitwise_not(faded)
    return cv2.multiply(colour, alpha, scale=1 / 255)  # over black


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

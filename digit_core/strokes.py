"""Digits as pen strokes: a small table of shapes and a renderer with jitter.

MNIST's writers were American: the crossed 7, the 1 with a flag and a foot, the
open-topped 4 and the 9 whose tail curls back are rare in it and common elsewhere.
These templates add those styles to training, drive the browser tests' mouse
strokes, and give an outside-MNIST check of canvas-like strokes.

A template is a tuple of strokes; a stroke is a polyline of (x, y) points in a
unit box, x to the right, y down, the digit filling roughly x in [0.15, 0.85]
and y in [0.05, 0.95].
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

Point = tuple[float, float]
Stroke = tuple[Point, ...]
Template = tuple[Stroke, ...]


def arc(
    cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 16
) -> Stroke:
    """Points on an elliptical arc; angles in degrees, 0 = right, 90 = down."""
    angles = np.radians(np.linspace(start, end, n))
    return tuple(
        (cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles.tolist()
    )


def _join(*parts: Stroke) -> Stroke:
    return tuple(point for part in parts for point in part)


TEMPLATES: dict[int, tuple[Template, ...]] = {
    0: (
        (arc(0.5, 0.5, 0.3, 0.45, -90, 275, 28),),
        (arc(0.5, 0.5, 0.25, 0.45, -100, 250, 28),),
    ),
    1: (
        (((0.5, 0.05), (0.5, 0.95)),),
        (((0.28, 0.3), (0.55, 0.05), (0.55, 0.95)),),  # flag
        (((0.28, 0.3), (0.55, 0.05), (0.55, 0.95)), ((0.32, 0.95), (0.78, 0.95))),
    ),
    2: (
        (_join(arc(0.5, 0.3, 0.28, 0.25, 200, 380), ((0.2, 0.95), (0.82, 0.95))),),
        (
            _join(
                arc(0.5, 0.3, 0.28, 0.25, 190, 370),
                ((0.22, 0.92),),
                arc(0.32, 0.85, 0.1, 0.1, 270, 90, 6),
                ((0.85, 0.93),),
            ),
        ),  # noqa: E501 looped foot
    ),
    3: (
        (
            _join(
                arc(0.5, 0.27, 0.25, 0.22, 210, 450),
                arc(0.5, 0.72, 0.28, 0.23, 270, 505),
            ),
        ),
        (
            _join(
                ((0.2, 0.06), (0.8, 0.06), (0.45, 0.42)),
                arc(0.5, 0.68, 0.3, 0.27, 260, 500),
            ),
        ),  # noqa: E501 flat top
    ),
    4: (
        (((0.62, 0.05), (0.15, 0.65), (0.88, 0.65)), ((0.64, 0.35), (0.64, 0.95))),
        (((0.25, 0.05), (0.2, 0.6), (0.85, 0.6)), ((0.66, 0.05), (0.66, 0.95))),  # open
    ),
    5: (
        (
            _join(
                ((0.78, 0.05), (0.3, 0.05), (0.26, 0.45)),
                arc(0.5, 0.68, 0.3, 0.27, 235, 505),
            ),
        ),  # noqa: E501
        (
            _join(((0.3, 0.05), (0.26, 0.45)), arc(0.5, 0.68, 0.3, 0.27, 235, 505)),
            ((0.3, 0.06), (0.8, 0.04)),
        ),  # noqa: E501 detached bar
    ),
    6: (
        (
            _join(
                ((0.72, 0.05), (0.48, 0.2), (0.32, 0.42)),
                arc(0.52, 0.7, 0.26, 0.25, 200, 560),
            ),
        ),  # noqa: E501
    ),
    7: (
        (((0.15, 0.06), (0.85, 0.06), (0.42, 0.95)),),
        (
            ((0.15, 0.06), (0.85, 0.06), (0.42, 0.95)),
            ((0.35, 0.5), (0.82, 0.5)),
        ),  # crossed
        (((0.15, 0.15), (0.2, 0.06), (0.85, 0.06), (0.5, 0.95)),),  # hooked start
    ),
    8: (
        (
            _join(
                arc(0.5, 0.27, 0.22, 0.22, 90, 450),
                arc(0.5, 0.72, 0.27, 0.23, -90, 270),
            ),
        ),  # noqa: E501
        (
            _join(
                arc(0.5, 0.27, 0.2, 0.22, 0, -270),
                ((0.3, 0.3), (0.75, 0.75)),
                arc(0.5, 0.75, 0.25, 0.2, 0, 180),
                ((0.7, 0.3),),
            ),
        ),  # noqa: E501 X-shaped 8
    ),
    9: (
        (_join(arc(0.5, 0.3, 0.27, 0.25, 0, -360), ((0.76, 0.95),)),),
        (
            _join(
                arc(0.5, 0.3, 0.27, 0.25, 0, -360),
                ((0.74, 0.78),),
                arc(0.55, 0.78, 0.2, 0.17, 0, 150, 8),
            ),
        ),  # noqa: E501 curled tail
    ),
}


def _smooth(points: NDArray[np.float64], passes: int = 2) -> NDArray[np.float64]:
    """Chaikin corner cutting: rounds the corners a hand would round anyway."""
    for _ in range(passes):
        if len(points) < 3:
            return points
        q = 0.75 * points[:-1] + 0.25 * points[1:]
        r = 0.25 * points[:-1] + 0.75 * points[1:]
        middle = np.empty((2 * len(q), 2))
        middle[0::2], middle[1::2] = q, r
        points = np.vstack([points[:1], middle, points[-1:]])
    return points


def jitter(
    template: Template, rng: np.random.Generator, amount: float = 1.0
) -> Template:
    """A randomly varied copy: slant, aspect, rotation and wobbly control points.

    amount 0 returns the template unchanged; 1 is a typical writer's variation.
    """
    slant = rng.normal(0.0, 0.18) * amount  # x += slant * (0.5 - y): right-leaning
    aspect = math.exp(rng.normal(0.0, 0.15) * amount)
    angle = math.radians(rng.normal(0.0, 6.0) * amount)
    cos, sin = math.cos(angle), math.sin(angle)
    strokes = []
    for stroke in template:
        pts = np.asarray(stroke, dtype=np.float64)
        pts = pts + rng.normal(0.0, 0.022 * amount, pts.shape)
        x = (pts[:, 0] - 0.5) * aspect + slant * (0.5 - pts[:, 1])
        y = pts[:, 1] - 0.5
        pts = np.stack([x * cos - y * sin + 0.5, x * sin + y * cos + 0.5], axis=1)
        strokes.append(tuple(map(tuple, pts.tolist())))
    return tuple(strokes)


def render(
    template: Template, size: int = 112, thickness: float = 0.09, margin: float = 0.1
) -> NDArray[np.float32]:
    """Draw strokes as an anti-aliased ink-high image, like a canvas drawing.

    size: output side in pixels; thickness: pen width as a fraction of size.
    Returns (size, size) float32 in [0, 1], ink high, background exactly 0.
    """
    scale = size * (1 - 2 * margin)
    shift = 4  # cv2 fixed-point bits: sub-pixel precision for smooth curves
    canvas = np.zeros((size, size), np.uint8)
    width = max(1, round(thickness * size))
    for stroke in template:
        pts = _smooth(np.asarray(stroke, dtype=np.float64)) * scale + size * margin
        fixed = np.round(pts * (1 << shift)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [fixed], False, 255, width, cv2.LINE_AA, shift)
    return canvas.astype(np.float32) / 255.0


def sample(
    digit: int, rng: np.random.Generator, size: int = 112
) -> NDArray[np.float32]:
    """A random rendering of `digit`: random style, jitter and pen width."""
    options = TEMPLATES[digit]
    template = options[int(rng.integers(len(options)))]
    thickness = float(rng.uniform(0.05, 0.13))
    return render(jitter(template, rng), size=size, thickness=thickness)

"""Turn a row of digits that rises to the right until it is level.

A number photographed with a tilted phone, or written on a line that climbs,
rises to the right or falls. The network reads digits that lean forward
(clockwise) as well as upright ones, but not digits that lean back: MNIST's
writers slant forward. So a rising row is turned clockwise until level: the
digits of a tilted photo, which leaned back, stand up again, and upright
digits on a climbing line lean forward, which costs nothing. A falling row is
left alone: tilted, its digits lean forward already; drawn, turning it would
lean upright digits back. (USPS 4-digit numbers, 200 of them, read exactly:
rising 5/10/15 degrees 92.5/91.5/89.5% -> 96.0/95.5/95.0%, as level 96.0%.)

A row is told by its digits' boxes: their tops, centres or bottoms lie on one
line (a baseline, or digits centred on one), and all three lines climb.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

MIN_TILT = 3.0  # degrees; less is handwriting's own wobble, and reads as well
MAX_TILT = 30.0  # degrees; more is no row meant to be level
ROW = 3  # digits at least; two boxes' slope is as much their shapes as a tilt
DIGIT = 0.5  # boxes under this fraction of the median height are not digits
SPAN = 2.0  # the digits' centres spread over at least this many heights
FIT = 0.2  # and each lies within this many heights of the row's line

Box = tuple[int, int, int, int]  # x, y, w, h
Edges = tuple[int, int, int, int]  # x0, y0, x1, y1, ends exclusive


@dataclass(frozen=True, slots=True)
class Turn:
    """Ink turned level, and the way back to the pixels it was given in."""

    ink: NDArray[np.float32]  # (h', w') float32 in [0, 1], ink high: the whole picture
    degrees: float  # turned clockwise by this much
    back: NDArray[np.float64]  # (2, 3) affine map: turned pixels -> given pixels
    size: tuple[int, int]  # the given ink's (width, height)

    def box_back(self, box: Box, mask: NDArray[np.bool_]) -> Box:
        """The box, in given pixels, of `mask` ((h, w) bool) placed at `box`."""
        rows, cols = np.nonzero(mask)
        if rows.size == 0:
            rows, cols = np.array([0, box[3] - 1]), np.array([0, box[2] - 1])
        # pixel (col, row) covers [col, col + 1): its four corners map back
        xs = np.concatenate([cols, cols + 1, cols, cols + 1]) + box[0]
        ys = np.concatenate([rows, rows, rows + 1, rows + 1]) + box[1]
        points = self.back @ np.stack([xs, ys, np.ones_like(xs)]).astype(np.float64)
        x0, y0 = np.maximum(np.floor(points.min(axis=1)), 0).astype(int)
        x1, y1 = np.minimum(np.ceil(points.max(axis=1)), self.size).astype(int)
        return int(x0), int(y0), max(1, int(x1 - x0)), max(1, int(y1 - y0))


def _theil_sen(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[float, float]:
    """Slope (median of pairwise slopes: one odd digit does not tilt it), worst miss."""
    i, j = np.triu_indices(len(x), 1)
    apart = x[j] - x[i]
    slope = float(np.median((y[j] - y[i]) / np.where(apart == 0, 1e-6, apart)))
    offsets = y - slope * x
    return slope, float(np.abs(offsets - np.median(offsets)).max())


def rising(boxes: Sequence[Edges]) -> float | None:
    """Degrees to turn a rising row of digits clockwise to level it, or None.

    boxes: the digits' (x0, y0, x1, y1), in image pixels (y down). None when
    they are no row (too few, too close, off any line) or it does not rise
    by MIN_TILT..MAX_TILT degrees.
    """
    if len(boxes) < ROW:
        return None
    height = float(np.median([y1 - y0 for _, y0, _, y1 in boxes]))
    digits = np.array(
        [b for b in boxes if b[3] - b[1] >= DIGIT * height], np.float64
    ).reshape(-1, 4)
    x = (digits[:, 0] + digits[:, 2]) / 2
    if len(digits) < ROW or x.max() - x.min() < SPAN * height:
        return None
    tops, bottoms = digits[:, 1], digits[:, 3]
    fits = [_theil_sen(x, y) for y in (tops, (tops + bottoms) / 2, bottoms)]
    climbs = [-math.degrees(math.atan(slope)) for slope, _ in fits]  # y runs down
    if min(climbs) < MIN_TILT:
        return None
    slope, miss = min(fits, key=lambda fit: fit[1])
    tilt = -math.degrees(math.atan(slope))
    return tilt if miss <= FIT * height and tilt <= MAX_TILT else None


def rotated(
    image: NDArray, degrees: float, fill: float = 0.0
) -> tuple[NDArray, NDArray[np.float64]]:
    """`image` ((h, w), any dtype) turned counter-clockwise, grown to lose no
    corner, `fill` around; and the (2, 3) affine map from its pixels to the new."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    size = (math.ceil(h * sin + w * cos), math.ceil(h * cos + w * sin))
    matrix[:, 2] += (size[0] - w) / 2, (size[1] - h) / 2
    turned = cv2.warpAffine(
        image, matrix, size, flags=cv2.INTER_LINEAR, borderValue=fill
    )
    return turned, matrix


def turn(ink: NDArray[np.float32], degrees: float) -> Turn:
    """`ink` ((h, w) float32, ink high, paper 0) turned clockwise, none cut off."""
    turned, matrix = rotated(ink, -degrees)
    h, w = ink.shape
    return Turn(turned, degrees, cv2.invertAffineTransform(matrix), (w, h))

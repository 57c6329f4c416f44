"""MNIST's own normalisation: fit the ink in 20x20, centre it by mass in 28x28.

LeCun et al. size-normalised each digit to fit a 20x20 box keeping its aspect ratio
(anti-aliased, hence grey levels), then placed it in a 28x28 frame so that its
centre of mass sits at the centre. Both the app's pipeline and training
augmentation end here, so the network always sees inputs made the same way.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from digit_core.errors import EmptyImageError

SIZE = 28  # MNIST frame, pixels
BOX = 20  # MNIST fits the ink's bounding box in 20x20
INK_FLOOR = 1e-3  # below this a pixel counts as background when cropping
CENTRE_SLACK = 0.45  # MNIST's mass centres lie anywhere within 0.5 px of the centre;
# the margin keeps a tie (its centre at x.5, a box of even width) off that edge


def ink_bbox(
    ink: NDArray[np.float32], floor: float = INK_FLOOR
) -> tuple[int, int, int, int]:
    """Bounding box (x, y, w, h) of pixels above `floor`; EmptyImageError if none.

    ink: (h, w) float32, ink high. Example: a single lit pixel at row 2,
    column 5 gives (5, 2, 1, 1).
    """
    x, y, w, h = cv2.boundingRect((ink > floor).view(np.uint8))
    if w == 0:
        raise EmptyImageError
    return x, y, w, h


def fit_box(ink: NDArray[np.float32], box: int = BOX) -> NDArray[np.float32]:
    """Scale a cropped digit so its longer side is `box` pixels, keeping aspect.

    Downscaling uses area averaging (the anti-aliasing MNIST has); upscaling
    uses bilinear interpolation. ink: (h, w) float32 in [0, 1]. Returns
    (H, W) with max(H, W) == box and min(H, W) >= 1.
    """
    h, w = ink.shape
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return np.clip(cv2.resize(ink, size, interpolation=interpolation), 0.0, 1.0)


def _whole_shift(offset: float) -> float:
    """Whole pixels, plus only the sub-pixel part that brings the centre within slack.

    Example: 4.3 -> 4.0 (0.3 px off is left alone); 4.5 -> 4.05 (0.45 px off).
    """
    whole = round(offset)
    rest = offset - whole
    return whole + math.copysign(max(0.0, abs(rest) - CENTRE_SLACK), rest)


def center_by_mass(
    box: NDArray[np.float32], size: int = SIZE, *, whole: bool = False
) -> NDArray[np.float32]:
    """Place a fitted digit in a size x size frame, centre of mass at the middle.

    MNIST digits were centred by mass, not by bounding box, so that is what the
    CNN has learned; on MNIST the mean mass centre is pixel (14.0, 14.0),
    0-indexed (measured on the test set). The shift is sub-pixel (bilinear), so
    the centre lands within a small fraction of a pixel of (size/2, size/2).
    whole: move by whole pixels, as MNIST's digits were (their centres lie
    anywhere within 0.5 px of the middle), and sub-pixel only as far as brings
    the centre within CENTRE_SLACK. For boxes that were not resampled (an MNIST
    digit): a fractional shift would blur their crisp strokes.
    box: (h, w) float32 in [0, 1], ink high, h and w <= size. Not modified.
    """
    if box.shape[1] == 2:  # cv2.moments reads (n, 2) as n points: a zero column
        box = cv2.copyMakeBorder(box, 0, 0, 0, 1, cv2.BORDER_CONSTANT, value=0.0)
    moments = cv2.moments(box)  # in double precision, a tenth of numpy's time
    mass = moments["m00"]
    if mass <= 0.0:
        raise EmptyImageError
    cy, cx = moments["m01"] / mass, moments["m10"] / mass
    centre = size / 2
    dx, dy = centre - cx, centre - cy
    if whole:
        dx, dy = _whole_shift(dx), _whole_shift(dy)
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    framed = cv2.warpAffine(
        box, shift, (size, size), flags=cv2.INTER_LINEAR, borderValue=0.0
    )
    return np.clip(framed, 0.0, 1.0)


def to_mnist(ink: NDArray[np.float32]) -> NDArray[np.float32]:
    """Crop to the ink, fit 20x20, centre by mass, peak at 1: MNIST's normalisation.

    Every MNIST digit has full-intensity stroke cores (max 255), so the result is
    rescaled to peak at 1 whatever the ink's contrast was.
    ink: (h, w) float32 in [0, 1], ink high, background exactly 0.
    Returns (28, 28) float32 in [0, 1].
    """
    x, y, w, h = ink_bbox(ink)
    framed = center_by_mass(fit_box(ink[y : y + h, x : x + w]), whole=max(w, h) == BOX)
    return framed / max(float(framed.max()), INK_FLOOR)

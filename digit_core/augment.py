"""Training-time distortions that make MNIST look like other people's handwriting.

Each image gets, at random: an affine warp (rotation, slant, aspect, shift),
an elastic distortion (Simard et al. 2003: smoothed random displacement
fields), a thicker or thinner pen, and a slight blur; some 1s get a
continental flag and foot, rare among MNIST's American writers. Then it is
normalised again exactly as the app's pipeline normalises input (fit 20x20,
centre by mass), so training sees what inference sees. A fraction of each
batch is replaced by stroke-rendered digits in non-American styles (see
strokes.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from digit_core import strokes
from digit_core.errors import EmptyImageError
from digit_core.normalize import SIZE, to_mnist


@dataclass(frozen=True, slots=True)
class AugmentConfig:
    """How strong each distortion is; defaults are moderate, like real writers."""

    rotation: float = 12.0  # degrees, uniform +-: MNIST's own slant spread is ~+-15
    shear: float = 0.25  # x += shear * y, uniform +-: italic writers
    aspect: float = 0.2  # log-uniform width/height change, +-
    shift: float = 1.5  # pixels, uniform +-: residue after mass centring
    elastic_prob: float = 0.5
    elastic_alpha: float = 1.8  # displacement scale, pixels (after smoothing)
    elastic_sigma: float = 3.0  # smoothing of the field, pixels
    thickness_prob: float = 0.3  # half thicker, half thinner
    blur_prob: float = 0.1  # photos and scans are rarely sharp
    clean_fraction: float = 0.2  # left as MNIST made them: evaluate.py reads raw MNIST
    synthetic_fraction: float = 0.08  # stroke-rendered digits per batch
    flag_prob: float = 0.3  # MNIST 1s given a continental flag (and half a foot)


def _affine(
    image: NDArray[np.float32], cfg: AugmentConfig, rng: np.random.Generator
) -> NDArray[np.float32]:
    angle = math.radians(rng.uniform(-cfg.rotation, cfg.rotation))
    shear = rng.uniform(-cfg.shear, cfg.shear)
    aspect = math.exp(rng.uniform(-cfg.aspect, cfg.aspect))
    cos, sin = math.cos(angle), math.sin(angle)
    linear = np.array([[cos, -sin], [sin, cos]]) @ np.array(
        [[aspect, shear], [0.0, 1.0]]
    )
    centre = np.array([SIZE / 2, SIZE / 2])
    offset = centre - linear @ centre + rng.uniform(-cfg.shift, cfg.shift, 2)
    matrix = np.hstack([linear, offset[:, None]]).astype(np.float32)
    return cv2.warpAffine(image, matrix, (SIZE, SIZE), flags=cv2.INTER_LINEAR)


def _elastic(
    image: NDArray[np.float32], cfg: AugmentConfig, rng: np.random.Generator
) -> NDArray[np.float32]:
    fields = rng.uniform(-1.0, 1.0, (2, SIZE, SIZE)).astype(np.float32)
    dx, dy = (cv2.GaussianBlur(f, (0, 0), cfg.elastic_sigma) for f in fields)
    norm = max(float(np.abs(dx).max()), float(np.abs(dy).max()), 1e-6)
    dx, dy = dx * (cfg.elastic_alpha / norm), dy * (cfg.elastic_alpha / norm)
    cols, rows = np.meshgrid(
        np.arange(SIZE, dtype=np.float32), np.arange(SIZE, dtype=np.float32)
    )
    return cv2.remap(image, cols + dx, rows + dy, cv2.INTER_LINEAR, borderValue=0.0)


def _thickness(
    image: NDArray[np.float32], rng: np.random.Generator
) -> NDArray[np.float32]:
    kernel = np.ones((2, 2), np.uint8)
    if rng.random() < 0.5:
        return cv2.dilate(image, kernel)
    thinner = cv2.erode(image, kernel)
    return thinner if thinner.max() > 0.5 else image  # never erase a thin digit


INK_FLOOR = 0.05  # fainter than this, after a distortion, is blur: paper
UPRIGHT = 0.15  # a stem leaning less than this (of its height) may get a foot


def _flagged(one: NDArray[np.float32], rng: np.random.Generator) -> NDArray[np.float32]:
    """An MNIST 1 written the continental way: a flag 15-45% of its height
    running down-left from the top at 35-65 degrees, and, half the time, a
    foot under an upright stem (under a slanted one it would make a 2).

    Drawn anti-aliased at 4x in the stem's own width, then shrunk back.
    """
    rows, cols = np.nonzero(one > 0.5)
    if rows.size == 0:
        return one
    top, bottom = int(rows.min()), int(rows.max())
    height = bottom - top + 1
    width = max(1.0, float((one > 0.5).sum()) / height)  # a stem's area / length
    big = cv2.resize(one, (4 * SIZE, 4 * SIZE), interpolation=cv2.INTER_LINEAR)

    def line(x0: float, y0: float, x1: float, y1: float) -> None:
        ends = np.round(4 * np.array([x0, y0, x1, y1]) + 2).astype(int).tolist()
        thick = max(1, round(4 * width))
        cv2.line(big, tuple(ends[:2]), tuple(ends[2:]), 1.0, thick, cv2.LINE_AA)

    x = float(cols[rows <= top + 1].mean())
    length = rng.uniform(0.15, 0.45) * height
    angle = math.radians(rng.uniform(35.0, 65.0))
    line(x, top, x - length * math.cos(angle), top + length * math.sin(angle))
    base = float(cols[rows >= bottom - 1].mean())
    if abs(base - x) < UPRIGHT * height and rng.random() < 0.5:
        foot = rng.uniform(0.3, 0.6) * height / 2
        line(base - foot, bottom, base + foot, bottom)
    small = cv2.resize(big, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return np.clip(small, 0.0, 1.0).astype(np.float32)


def augment_one(
    image: NDArray[np.float32], cfg: AugmentConfig, rng: np.random.Generator
) -> NDArray[np.float32]:
    """One random distortion of one (28, 28) float32 ink-high image, renormalised."""
    out = _affine(image, cfg, rng)
    if rng.random() < cfg.elastic_prob:
        out = _elastic(out, cfg, rng)
    if rng.random() < cfg.thickness_prob:
        out = _thickness(out, rng)
    if rng.random() < cfg.blur_prob:
        out = cv2.GaussianBlur(out, (3, 3), rng.uniform(0.4, 0.8))
    out = out / max(float(out.max()), 1e-6)
    try:
        return to_mnist(np.where(out > INK_FLOOR, out, 0.0).astype(np.float32))
    except EmptyImageError:  # everything warped out of frame: keep the original
        return image


def augment_batch(
    images: NDArray[np.float32],
    labels: NDArray[np.integer],
    cfg: AugmentConfig,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float32], NDArray[np.integer]]:
    """Distort most of a batch; replace a random fraction with stroke-rendered digits.

    images: (N, 28, 28) float32 in [0, 1]; labels: (N,). Returns new arrays.
    """
    if len(images) == 0:
        return images.copy(), labels.copy()
    keep = rng.random(len(images)) < cfg.clean_fraction
    flag = (labels == 1) & ~keep & (rng.random(len(images)) < cfg.flag_prob)
    out = np.stack(
        [
            image
            if kept
            else augment_one(_flagged(image, rng) if flagged else image, cfg, rng)
            for image, kept, flagged in zip(images, keep, flag, strict=True)
        ]
    )
    labels = labels.copy()
    count = rng.binomial(len(images), cfg.synthetic_fraction)
    for index in rng.choice(len(images), count, replace=False):
        labels[index] = rng.integers(10)
        out[index] = to_mnist(strokes.sample(int(labels[index]), rng))
    return out, labels

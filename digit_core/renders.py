"""Digits drawn as users hand them to the app: scans, canvas strokes, photos, rows.

The recogniser is scored on handwriting from outside MNIST, so these turn digit
images and stroke templates into the pictures users really give it:
- `scan`: a digit image as a small clean scan, dark ink on light paper;
- `canvas_drawing`: stroke templates drawn on the Draw page's canvas with a
  mouse, a pen tablet or a finger (white on black RGBA, as canvas.py reads);
- `phone_photo`: a digit image written in ink on paper and photographed: warm
  paper, dark or blue ink, uneven light, a soft shadow, a slight tilt, blur,
  sensor noise, and JPEG bytes as a phone uploads them;
- `number_row`: several digit images written side by side as one number.
Each takes a seeded numpy Generator: the same seed gives the same picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from digit_core import level, strokes

PAPER, INK = 255, 0  # uint8 levels of a scan: dark ink, light paper
SCAN_SCALE = 4  # a 16x16 USPS digit becomes 64x64, the size of a digit in a scan
SCAN_MARGIN = 16  # px of paper around a scanned digit: USPS ink touches its box
CANVAS_SIDE = 280  # px: the Draw page's square canvas (pages/draw.py)
PEN = (6.0, 40.0)  # px: a thin mouse line to a fat finger (the page offers 8-40)
PEN_MAX = 0.16  # of the digit's height: a fatter pen fills a small digit's loops
CANVAS_JITTER = (0.5, 2.0)  # strokes.jitter amount: training uses 1.0; 2 is messy
CANVAS_HEIGHT = (0.35, 0.9)  # digit height, fraction of the canvas
CANVAS_INSET = 8.0  # px: people start a stroke a little inside the canvas's edge
PHOTO_DIGIT = (64, 160)  # px: the digit's longer side in a cropped phone photo
PHOTO_PAGE = (1.8, 2.8)  # photo side in digit sides: the paper around the digit
PAPER_RGB = (236.0, 226.0, 204.0)  # warm office paper under indoor light
INK_RGB = (  # black and blue ballpoint, and a pencil's grey graphite; BGR
    (35.0, 35.0, 40.0),
    (150.0, 60.0, 30.0),
    (140.0, 135.0, 135.0),
)
TILT = 8.0  # degrees, uniform +-: a phone held not quite square to the page
KEYSTONE = 0.04  # corner displacement, fraction of the side: perspective
JPEG_QUALITY = (70, 86)  # phone cameras and browsers upload at 70-85
ROW_HEIGHT = 64  # px: a digit's height in a picture of a number
ROW_SIZE = (0.85, 1.15)  # each digit's height, times ROW_HEIGHT: one writer
ROW_BASELINE = 0.06  # baseline wobble, ROW_HEIGHTs (normal sigma)
ROW_GAP = (0.12, 0.6)  # space between digits, ROW_HEIGHTs: never touching
ROW_TILT = 15.0  # degrees, uniform +-: a phone turned to fit a number in
LIGHT_SIDE = 64  # px: light and shadow are computed this small, then scaled up
PHOTO_CENTRE = 0.25  # the digit's offset from the photo's centre, of the room left
INK_LEVEL = 0.1  # an image pixel above this is ink when cropping a digit
TIGHT_SCALE = (1.0, 4.0)  # a tight crop enlarged this much: a dataset's to a scan's


# helpers


def _ink_crop(ink: NDArray[np.float32]) -> NDArray[np.float32]:
    """The rows and columns holding ink; the whole image when there is none."""
    rows = np.flatnonzero((ink > INK_LEVEL).any(axis=1))
    cols = np.flatnonzero((ink > INK_LEVEL).any(axis=0))
    if not len(rows):
        return ink
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _resize_ink(ink: NDArray[np.floating], height: int) -> NDArray[np.float32]:
    """Ink scaled to `height` px keeping its aspect; bicubic, clipped to [0, 1]."""
    ink = np.asarray(ink, dtype=np.float32)
    h, w = ink.shape
    size = (max(1, round(w * height / h)), height)
    return np.clip(cv2.resize(ink, size, interpolation=cv2.INTER_CUBIC), 0.0, 1.0)


def _placed(template: strokes.Template, side: float, x: float, y: float) -> tuple:
    """A unit-box template scaled to `side` px at (x, y), in canvas units (/ 280)."""
    return tuple(
        tuple(
            ((px * side + x) / CANVAS_SIDE, (py * side + y) / CANVAS_SIDE)
            for px, py in s
        )
        for s in template
    )


def _noise(
    shape: tuple[int, ...], sigma: float, rng: np.random.Generator
) -> NDArray[np.float32]:
    """Gaussian sensor noise, grey levels; float32 draws are twice as fast."""
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(sigma)


def _lighting(side: int, rng: np.random.Generator) -> NDArray[np.float32]:
    """(side, side) float32 brightness: a light gradient and a soft shadow's edge.

    Both vary slowly, so they are made at LIGHT_SIDE px and scaled up: fast.
    """
    rows, cols = np.mgrid[0:LIGHT_SIDE, 0:LIGHT_SIDE].astype(np.float32) / LIGHT_SIDE
    angle = rng.uniform(0, 2 * math.pi)
    ramp = math.cos(angle) * cols + math.sin(angle) * rows  # along the light's way
    light = 1.0 - rng.uniform(0.05, 0.3) * (ramp - ramp.min()) / np.ptp(ramp)
    angle = rng.uniform(0, 2 * math.pi)
    across = math.cos(angle) * (cols - 0.5) + math.sin(angle) * (rows - 0.5)
    edge = rng.uniform(-0.6, -0.25)  # the shadow covers a corner or a side
    shadow = (across < edge).astype(np.float32)
    shade = cv2.GaussianBlur(shadow, (0, 0), LIGHT_SIDE / 12)
    small = light * (1.0 - rng.uniform(0.2, 0.45) * shade)
    return cv2.resize(small, (side, side), interpolation=cv2.INTER_LINEAR)


def _tilt(image: NDArray[np.float32], rng: np.random.Generator) -> NDArray[np.float32]:
    """A slight rotation and perspective, as from a phone not held square."""
    side = image.shape[0]
    corners = np.float32([[0, 0], [side, 0], [side, side], [0, side]])
    angle = math.radians(rng.uniform(-TILT, TILT))
    turn = np.float32(
        [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
    )
    centre = np.float32([side / 2, side / 2])
    moved = (corners - centre) @ turn.T + centre
    moved += rng.normal(0.0, KEYSTONE * side, moved.shape).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(corners, moved.astype(np.float32))
    return cv2.warpPerspective(
        image,
        matrix,
        (side, side),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


# actions


def scan(
    digit: NDArray[np.floating], scale: int = SCAN_SCALE, margin: int = SCAN_MARGIN
) -> NDArray[np.uint8]:
    """A digit image as a small clean scan: dark ink on light paper, bicubic edges.

    digit: (h, w) float in [0, 1], ink high; not modified. Returns (h * scale +
    2 * margin, w * scale + 2 * margin) uint8, paper 255, ink down to 0.
    Example: a 16x16 USPS digit with the defaults is 96x96, ink in rows 16..79.
    """
    h, w = digit.shape
    big = cv2.resize(
        np.asarray(digit, np.float32),
        (w * scale, h * scale),
        interpolation=cv2.INTER_CUBIC,
    )
    level = np.round(PAPER + (INK - PAPER) * np.clip(big, 0.0, 1.0)).astype(np.uint8)
    return cv2.copyMakeBorder(
        level, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=PAPER
    )


def tight_crop(
    digit: NDArray[np.floating], rng: np.random.Generator
) -> NDArray[np.uint8]:
    """A digit cut to its ink's box, as datasets and form readers crop them:
    strokes run off every edge, with no paper around to judge the light by.

    digit: (h, w) float in [0, 1], ink high; not modified. Enlarged 1-4x
    (bicubic, so the edges are soft); dark ink on light paper or light on
    dark, at random. Returns (H, W) uint8.
    """
    ink = _ink_crop(np.asarray(digit, np.float32))
    h, w = ink.shape
    scale = rng.uniform(*TIGHT_SCALE)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    big = np.clip(cv2.resize(ink, size, interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
    level = np.round(255.0 * big).astype(np.uint8)
    return level if rng.random() < 0.5 else 255 - level


def canvas_drawing(digit: int, rng: np.random.Generator) -> NDArray[np.uint8]:
    """`digit` drawn on the Draw page's canvas: (280, 280, 4) uint8 RGBA, opaque.

    White anti-aliased strokes on black, as the canvas sends them. A random
    template of strokes.TEMPLATES, jittered up to 2x a typical writer (past
    training's 1.0), at 35-90% of the canvas height anywhere on it, with a pen
    of 6-40 px (at most PEN_MAX of the digit's height).
    """
    options = strokes.TEMPLATES[digit]
    template = options[int(rng.integers(len(options)))]
    shape = strokes.jitter(template, rng, amount=float(rng.uniform(*CANVAS_JITTER)))
    side = float(rng.uniform(*CANVAS_HEIGHT)) * CANVAS_SIDE
    pen = min(float(rng.uniform(*PEN)), PEN_MAX * side)
    x, y = rng.uniform(CANVAS_INSET, CANVAS_SIDE - side - CANVAS_INSET, 2).tolist()
    ink = strokes.render(
        _placed(shape, side, x, y), CANVAS_SIDE, thickness=pen / CANVAS_SIDE, margin=0.0
    )
    level = np.round(ink * 255).astype(np.uint8)
    return np.dstack([level, level, level, np.full_like(level, 255)])


def phone_photo(digit: NDArray[np.floating], rng: np.random.Generator) -> bytes:
    """A digit image written in ink on paper and photographed, as JPEG bytes.

    digit: (h, w) float in [0, 1], ink high (MNIST / 255, USPS); not modified.
    The ink is upscaled to 64-160 px on warm paper 1.8-2.8x its size, in black
    or blue ballpoint or in pencil, lit unevenly with a soft shadow, tilted up
    to 8 degrees with some perspective, blurred, given sensor noise and
    JPEG-encoded at quality 70-85.
    """
    height = int(rng.integers(*PHOTO_DIGIT))
    ink = _resize_ink(_ink_crop(np.asarray(digit, np.float32)), height)
    side = round(max(ink.shape) * rng.uniform(*PHOTO_PAGE))
    y, x = (
        round((side - n) * (0.5 + rng.uniform(-PHOTO_CENTRE, PHOTO_CENTRE)))
        for n in ink.shape
    )  # near the middle: people aim the phone at the digit
    coverage = np.zeros((side, side), np.float32)
    coverage[y : y + ink.shape[0], x : x + ink.shape[1]] = ink * rng.uniform(0.75, 0.95)
    paper = np.float32(PAPER_RGB[::-1]) + rng.normal(0.0, 6.0, 3).astype(np.float32)
    pen = np.float32(INK_RGB[int(rng.integers(len(INK_RGB)))])
    picture = paper + coverage[..., None] * (pen - paper)  # (side, side, 3) BGR
    picture = _tilt(picture * _lighting(side, rng)[..., None], rng)
    picture = cv2.GaussianBlur(picture, (0, 0), rng.uniform(0.5, 1.5))
    picture += _noise(picture.shape, rng.uniform(2.0, 6.0), rng)
    quality = int(rng.integers(*JPEG_QUALITY))
    bgr = np.clip(np.round(picture), 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        msg = f"OpenCV could not JPEG-encode a {bgr.shape} picture"
        raise RuntimeError(msg)
    return encoded.tobytes()


def number_row(
    digits: Sequence[NDArray[np.floating]], rng: np.random.Generator
) -> NDArray[np.uint8]:
    """Digit images written side by side as one number: (h, w) uint8, ink dark.

    digits: (h, w) float in [0, 1] each, ink high, left to right; not modified.
    Each is ROW_HEIGHT px tall give or take 15%, on a wobbling baseline, with
    gaps of 0.12-0.6 digit heights (never touching), on paper of level 215-250,
    ink 10-70, slightly blurred with a little noise, like a clean scan.
    """
    parts = [
        _resize_ink(_ink_crop(np.asarray(d, np.float32)), round(ROW_HEIGHT * s))
        for d, s in zip(digits, rng.uniform(*ROW_SIZE, len(digits)), strict=True)
    ]
    gaps = np.round(rng.uniform(*ROW_GAP, len(parts)) * ROW_HEIGHT).astype(int)
    gaps[0] = 0  # gaps[i]: space before digit i
    drops = np.round(rng.normal(0.0, ROW_BASELINE, len(parts)) * ROW_HEIGHT).astype(int)
    margin = ROW_HEIGHT
    width = sum(p.shape[1] for p in parts) + int(gaps[1:].sum()) + 2 * margin
    coverage = np.zeros((3 * ROW_HEIGHT, width), np.float32)
    baseline, x = 2 * ROW_HEIGHT, margin
    for part, gap, drop in zip(parts, gaps, drops, strict=True):
        x += int(gap)
        top = baseline + drop - part.shape[0]
        coverage[top : top + part.shape[0], x : x + part.shape[1]] = part
        x += part.shape[1]
    paper, ink = rng.uniform(215, 250), rng.uniform(10, 70)
    picture = paper + coverage * (ink - paper)
    picture = cv2.GaussianBlur(picture, (0, 0), 0.7)
    picture += _noise(picture.shape, 2.0, rng)
    return np.clip(np.round(picture), 0, 255).astype(np.uint8)


def tilted(picture: NDArray[np.uint8], rng: np.random.Generator) -> NDArray[np.uint8]:
    """A picture ((h, w) uint8, ink dark) turned up to ROW_TILT degrees either way.

    As a number photographed with the phone turned: the digits turn with
    their row. The picture grows to keep every corner; paper fills the rest.
    """
    degrees = rng.uniform(-ROW_TILT, ROW_TILT)
    return level.rotated(picture, degrees, fill=float(np.median(picture)))[0]

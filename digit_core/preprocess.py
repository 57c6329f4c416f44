"""Any drawing or photo -> clean ink -> MNIST-style 28x28 inputs, in named steps.

Whole picture (`prepare`), in order:
  input       the array as given (any dtype; gray, gray+alpha, RGB or RGBA)
  working     scaled down so the longer side is at most MAX_SIDE (bounded time)
  flattened   alpha composited; paper colour estimated and removed (uneven
              light, shadows, coloured paper); ink polarity detected
  ink         contrast with the paper colour, ink high (dark ink relative to
              the paper's brightness, so shadows cancel); random noise, with
              no strokes in it, is no digit
  lines       ruled or squared paper lines, a baseline, a printed box around
              the digits removed (only where found)
  clean       noise floor cut and isolated specks dropped (paper exactly 0),
              ink stretched to full scale, big ink shrunk; no digit-sized
              piece of ink (blank, a dot, dust) is no digit
Each digit (`digit_input`), after segmentation:
  crop        the digit's own ink, neighbours masked out
  pen         stroke width brought into MNIST's range (thin lines thickened,
              marker strokes thinned)
  fitted      longer side scaled to 20 px, aspect kept, anti-aliased
  centred     placed in 28x28 with the centre of mass at the centre
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from digit_core.errors import EmptyImageError, ImageDecodeError, ImageTooLargeError
from digit_core.normalize import BOX, center_by_mass, fit_box, ink_bbox
from digit_core.segment import stroke_width

MAX_SIDE = 1024  # working resolution: enough for a row of digits in a photo
MAX_PIXELS = 64_000_000  # larger arrays are refused, not slowly processed
# Pictures smaller than TINY px are enlarged (bicubic) to at least TINY_TO px.
# MNIST train digits shrunk to 8 / 10 / 12 px read 75.9 / 95.1 / 99.1% as they
# are and 93.3 / 98.0 / 99.4% enlarged; from 16 px on, it makes no difference.
TINY = 16
TINY_TO = 64
MIN_CONTRAST = 0.12  # ink must differ from paper by 12% of full scale
UNEVEN_LIGHT = 0.06  # paper brightness range above which it is flattened
THUMBNAIL = 128  # px: light is estimated on a picture this small...
# ...by closing away strokes up to 1/8 of its shorter side: with 1/10, the core
# of a marker's or a USPS digit's stroke in a close-up was taken for paper and
# the stroke left hollow (a faint pencil 1 read as 0). Phone photos of USPS /
# MNIST (1,000 each) in pencil 94.5 / 97.7% -> 97.8 / 99.0%, in ballpoint 97.4 /
# 98.8% -> 98.1 / 99.0%; 1/6 and 1/5 follow shadows less well (pencil 97.7 / 96.0%)
LIGHT_KERNEL = 8
POLARITY_STEP = 4  # ink polarity is judged on every 4th pixel each way...
POLARITY_QUANTILE = 0.01  # ...by how far its darkest and brightest 1% reach
RIM_FRACTION = 40  # ink's blurred rim: this fraction of a thumbnail's side, >= 1 px
LIGHT_GRID = 3  # light is compared across this many cells a side...
PAPER_QUANTILE = 0.1  # ...by the cleanest paper in each (a scan's haze is above it)
PAPER_CELL = 0.5  # ...of those at least this much paper beyond the ink's rim
DEEPEST_SHADOW = 0.5  # shadows darken paper less than this (a hand's: ~0.4); ink more
DARKEST_PAPER = 0.4  # ink is darkening relative to paper at least this bright
MIN_DIGIT = 0.02  # the biggest piece of ink spans 2% of the longer side...
MIN_DIGIT_PX = 3  # ...and 3 px: a dot of dust is not a digit
NOISE_LINK = 0.2  # strokes make neighbours alike (lag-1 correlation: MNIST >= 0.6,
# 16x16 USPS scans >= 0.26, photos ~0.98); random noise <= 0.1
MNIST_PEN = 2.45  # median stroke width of MNIST test digits, px (pen_width)
PEN_BAND = (0.6, 2.1)  # MNIST's 1st-99th percentiles / median: left alone
PEN_SIDE = 4 * BOX  # the pen is adjusted at 4x the final size: small kernels, fast
LINE_SPAN = 0.9  # paper lines run edge to edge; pen strokes of a digit do not
LINE_THICKNESS = 0.02  # ...and is at most this fraction of the picture thick
LINE_MIN_SIDE = 100  # pictures smaller than this hold one digit, not ruled paper
LINE_PIECE = 1.5  # a lone line's piece of ink is at most this much more than it
UNDERLINE_BAND = 0.15  # an underline lies in this bottom fraction of the ink's height
UNDERLINE_FLAT = 0.25  # ...and is at most this tall for the height of the ink above
FRAME_BAND = 0.08  # a box's ink lies within this fraction of its size of its edges...
FRAME_SIDES = 0.7  # ...along this much of each of its four sides...
FRAME_CONTENT = 0.3  # ...around ink this tall for its height (a digit, not a dot)
WALL_SPAN = 0.95  # a wall between a comb's cells runs down this much of its height
WALL_EVEN = 1.25  # ...and its cells are this alike in width
DIGIT_HEIGHT = 128  # cleaned ink is shrunk until no piece is taller: 6x what is read
SHRUNK_PEN = 2.0  # ...but strokes stay at least this wide, px
STROKE_CORE = 0.9  # ...then this quantile of its ink is a stroke's full strength
REACH = 2  # px: ink this far from a stroke above Otsu's threshold may be its rim


@dataclass(frozen=True, slots=True)
class Step:
    """One stage of the pipeline, for the app's "what the model sees" view."""

    name: str
    image: NDArray  # (h, w) or (h, w, 2-4); float32 in [0, 1], or the input's uint8/16
    caption: str


@dataclass(frozen=True, slots=True)
class Page:
    """A picture cleaned to ink: what segmentation and digit inputs start from."""

    ink: NDArray[np.float32]  # (h, w) in [0, 1], ink high, paper exactly 0
    scale: float  # working pixels per input pixel (<= 1)
    steps: tuple[Step, ...]


# helpers


def _checked(image: NDArray) -> NDArray:
    """The array as a picture, (h, w) or (h, w, 2-4), not converted.

    Raises ImageDecodeError for shapes that are not a picture and
    ImageTooLargeError over MAX_PIXELS.
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (
        array.ndim == 3 and array.shape[2] not in (2, 3, 4)
    ):
        msg = f"array of shape {array.shape} is not a picture (h, w[, 1-4 channels])"
        raise ImageDecodeError(msg)
    if array.shape[0] == 0 or array.shape[1] == 0:
        msg = f"empty picture of shape {array.shape}"
        raise ImageDecodeError(msg)
    if array.shape[0] * array.shape[1] > MAX_PIXELS:
        msg = f"{array.shape[1]}x{array.shape[0]} pixels is over {MAX_PIXELS}"
        raise ImageTooLargeError(msg)
    return array


def as_float(image: NDArray) -> NDArray[np.float32]:
    """Any numeric array as float32 in [0, 1], channels last (h, w, c).

    Integers are scaled by their type's range (uint8 /255, uint16 /65535);
    floats and other types by their observed range when it exceeds [0, 1].
    Raises ImageDecodeError for shapes or values that are not a picture.
    """
    array = _checked(image)
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    if not (
        np.issubdtype(array.dtype, np.integer)
        or np.issubdtype(array.dtype, np.floating)
    ):
        msg = f"pixels of type {array.dtype} are not numbers"
        raise ImageDecodeError(msg)
    values = array.astype(np.float64)
    if not np.isfinite(values).all():
        msg = "picture has NaN or infinite pixels"
        raise ImageDecodeError(msg)
    low, high = float(values.min()), float(values.max())
    if low < 0.0 or high > 1.0:
        # divide before subtracting: high - low overflows for ranges near 1e308
        values = values / 2.0 - low / 2.0
        span = high / 2.0 - low / 2.0
        values = values / span if span > 0 else np.zeros_like(values)
    return np.clip(values, 0.0, 1.0).astype(np.float32)


def _quantile(values: NDArray[np.float32], q: float) -> float:
    """The q-quantile (nearest rank) of a non-empty 1-d array, by partial sort.

    A tenth of np.percentile's cost on a picture's worth of pixels.
    """
    k = round(q * (values.size - 1))
    return float(np.partition(values, k)[k])


def _ink_quantile(
    ink: NDArray[np.float32], where: NDArray[np.bool_], q: float, zeros: int = 0
) -> float:
    """The q-quantile (nearest rank) of ink[where] and `zeros` more zeros;
    ink non-negative, most of it 0.

    The same as _quantile, but only the nonzero values are gathered and
    sorted: around a digit most pixels are exactly paper, so this is several
    times faster.
    """
    size = cv2.countNonZero(where.view(np.uint8)) + zeros
    k = round(q * (size - 1))
    nonzero = ink[(ink > 0) & where]
    zeros = size - nonzero.size
    return 0.0 if k < zeros else float(np.partition(nonzero, k - zeros)[k - zeros])


def _downsize(image: NDArray, max_side: int = MAX_SIDE) -> tuple[NDArray, float]:
    """Shrink so the longer side is at most max_side; the dtype is kept."""
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale == 1.0:
        return image, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def _enlarged(image: NDArray[np.float32], scale: float) -> tuple[NDArray, float]:
    """A picture smaller than TINY px enlarged (bicubic) to at least TINY_TO px,
    and its scale: an 8x8 scan draws a stroke in one pixel, too few to cut
    noise or judge the pen by."""
    h, w = image.shape[:2]
    if max(h, w) >= TINY:
        return image, scale
    k = math.ceil(TINY_TO / max(h, w))
    big = cv2.resize(image, (w * k, h * k), interpolation=cv2.INTER_CUBIC)
    return np.clip(big, 0.0, 1.0), scale * k


def _gray(image: NDArray) -> NDArray:
    """Drop colour channels that are all equal: (h, w, 3|4) -> (h, w) or (h, w, 2).

    Canvases, scans and MNIST are gray: one channel is a third of the work.
    """
    if image.ndim != 3 or image.shape[2] < 3:
        return image
    channels = cv2.split(image)  # OpenCV: numpy's strided copies cost 20x more
    red, green, blue = channels[:3]
    if cv2.norm(red, green, cv2.NORM_INF) or cv2.norm(green, blue, cv2.NORM_INF):
        return image
    if image.shape[2] == 3:
        return red
    alpha = channels[3]
    opaque = np.iinfo(alpha.dtype).max if alpha.dtype.kind in "ui" else 1.0
    return red if cv2.minMaxLoc(alpha)[0] >= opaque else cv2.merge([red, alpha])


def _composite(image: NDArray[np.float32]) -> NDArray[np.float32]:
    """Drop the alpha channel onto a backdrop that contrasts with the opaque ink.

    A canvas with a transparent background and black strokes, or white strokes,
    both become ink on plain paper. Returns (h, w) or (h, w, 3).
    """
    if image.ndim == 2 or image.shape[2] == 3:
        return image
    colour, alpha = image[..., :-1], image[..., -1:]
    if alpha.min() > 0.99:
        return colour[..., 0] if colour.shape[2] == 1 else colour
    opaque = alpha[..., 0] > 0.5
    level = float(colour[opaque].mean()) if opaque.any() else 0.0
    backdrop = 1.0 if level < 0.5 else 0.0
    mixed = colour * alpha + backdrop * (1.0 - alpha)
    return mixed[..., 0] if mixed.shape[2] == 1 else mixed


def _border(image: NDArray[np.float32]) -> NDArray[np.float32]:
    """Pixels of the outer ring (3% of each side, at least 1 px): mostly paper."""
    h, w = image.shape[:2]
    dy, dx = max(1, h // 33), max(1, w // 33)
    ring = [image[:dy], image[-dy:], image[:, :dx], image[:, -dx:]]
    channels = 1 if image.ndim == 2 else image.shape[2]
    return np.concatenate([r.reshape(-1, channels) for r in ring])


def _thirds(length: int) -> list[slice]:
    """LIGHT_GRID slices that cover range(length) in nearly equal parts."""
    edges = np.linspace(0, length, LIGHT_GRID + 1).round().astype(int)
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def _even_paper(
    small: NDArray[np.float32], dark_ink: bool
) -> NDArray[np.float32] | None:
    """The paper's one colour (per channel) when a picture whose edges vary
    in brightness is evenly lit paper with ink running off its edges (a
    tightly cropped digit); None when the light is uneven.

    small: the picture shrunk to THUMBNAIL px on its shorter side. Otsu's
    threshold splits it in two; the light is even when the ink side is
    further from the paper than any shadow (DEEPEST_SHADOW) and the cleanest
    paper beyond the ink's blurred rim (PAPER_QUANTILE of each of LIGHT_GRID x
    LIGHT_GRID cells that are mostly paper) is as bright everywhere, within
    UNEVEN_LIGHT: a scan's haze around strokes is not light falling off.
    """
    gray = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    contrast = (1.0 - gray) if dark_ink else gray  # ink high
    level = np.round(255.0 * np.clip(contrast, 0.0, 1.0)).astype(np.uint8)
    _, ink = cv2.threshold(level, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    rim = 2 * max(1, round(max(ink.shape) / RIM_FRACTION)) + 1
    paper = cv2.dilate(ink, np.ones((rim, rim), np.uint8)) == 0
    if not paper.any() or paper.all():
        return None
    paper_level = _quantile(contrast[paper], 0.5)
    if _quantile(contrast[ink > 0], 0.5) - paper_level <= DEEPEST_SHADOW:
        return None
    cells = [
        (contrast[rows][:, cols], paper[rows][:, cols])
        for rows in _thirds(paper.shape[0])
        for cols in _thirds(paper.shape[1])
    ]
    cleanest = [
        _quantile(values[mine], PAPER_QUANTILE)
        for values, mine in cells
        if mine.mean() >= PAPER_CELL
    ]
    if cleanest and max(cleanest) - min(cleanest) >= UNEVEN_LIGHT:
        return None
    colours = small[paper].reshape(-1, 1 if small.ndim == 2 else small.shape[2])
    return np.float32([_quantile(channel, 0.5) for channel in colours.T])


def _darker_ink(image: NDArray[np.float32], paper: float) -> bool:
    """Whether the ink is darker than the paper of brightness `paper`.

    Bright paper holds dark ink (a bright glare would not change that). On
    dark paper, the ink is dark when the picture's darkest pixels lie further
    below the paper than its brightest above: a dim photo's white paper is
    dark grey, but no blackboard. On every POLARITY_STEP-th pixel each way.
    """
    if paper > 0.5:
        return True
    sample = image[::POLARITY_STEP, ::POLARITY_STEP]
    values = (sample if sample.ndim == 2 else sample.mean(axis=2)).ravel()
    below = paper - _quantile(values, POLARITY_QUANTILE)
    above = _quantile(values, 1.0 - POLARITY_QUANTILE) - paper
    return below > above


def _flat(
    image: NDArray[np.float32], level: NDArray[np.float32]
) -> NDArray[np.float32]:
    """Paper of one colour `level` (one value per channel), shaped like `image`."""
    shape = image.shape if image.ndim == 3 else (*image.shape, 1)
    flat = np.broadcast_to(level, shape)
    return flat if image.ndim == 3 else flat[..., 0]


def _paper(image: NDArray[np.float32]) -> tuple[NDArray[np.float32], bool]:
    """Per-pixel paper colour (constant for even light, smooth for photos); dark ink?

    The picture's border is mostly paper, bright for dark ink; dark paper is
    told from a dim photo's by the ink (_darker_ink). Light counts as even when
    the border's paper is uniform: true of canvases, scans and MNIST, whose
    paper is then one colour. Border pixels darker than the paper by more than
    any shadow (DEEPEST_SHADOW) are ink, so a thick marker stroke running off
    the edge is not taken for a shadow; a shadow's soft edge always shows, and
    so does a blurred stroke running off the edge of a tightly cropped scan:
    then the paper away from the ink decides (_even_paper). Otherwise closing
    (for dark ink) removes strokes thinner than an eighth of the picture from
    a thumbnail, leaving the paper's light falloff and shadows.
    """
    border = _border(image)
    low, high = cv2.minMaxLoc(border)[:2]
    if low == high:  # one colour (a canvas, a scan's margin): nothing to estimate
        return _flat(image, border[0]), _darker_ink(image, low)
    brightness = border.mean(axis=1)
    dark_ink = _darker_ink(image, _quantile(brightness, 0.5))
    if dark_ink:  # paper: the brightest, and what a shadow can make of it
        high = _quantile(brightness, 0.95)
        low = _quantile(brightness[brightness >= high - DEEPEST_SHADOW], 0.05)
    else:
        low = _quantile(brightness, 0.05)
        high = _quantile(brightness[brightness <= low + DEEPEST_SHADOW], 0.95)
    if high - low < UNEVEN_LIGHT:
        level = np.float32([_quantile(channel, 0.5) for channel in border.T])
        return _flat(image, level), dark_ink
    h, w = image.shape[:2]
    # shorter side THUMBNAIL: the strokes of a long row of digits stay strokes
    thumbnail, _ = _downsize(image, THUMBNAIL * max(h, w) // max(1, min(h, w)))
    even = _even_paper(thumbnail, dark_ink)
    if even is not None:
        return _flat(image, even), dark_ink
    small, _ = _downsize(thumbnail, THUMBNAIL)
    size = max(3, min(small.shape[:2]) // LIGHT_KERNEL) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    op = cv2.MORPH_CLOSE if dark_ink else cv2.MORPH_OPEN
    smooth = cv2.morphologyEx(small, op, kernel, borderType=cv2.BORDER_REPLICATE)
    smooth = cv2.blur(smooth, (size, size), borderType=cv2.BORDER_REPLICATE)
    return cv2.resize(smooth, (w, h), interpolation=cv2.INTER_LINEAR), dark_ink


def _ink(
    image: NDArray[np.float32], paper: NDArray[np.float32], dark_ink: bool
) -> NDArray[np.float32]:
    """How far each pixel is from the paper, in the ink's direction, strongest channel.

    Dark ink is measured relative to the paper's brightness: light multiplies,
    so ink in a shadow darkens the shadowed paper by the same fraction as ink
    in full light. Blue ink on white paper differs most in red; red ink most in
    green and blue: taking the strongest channel keeps coloured ink as strong
    as black.
    """
    if not any(paper.strides[:2]):  # even light: one colour, not a picture of it
        paper = paper[0, 0]
    if dark_ink:
        diff = (paper - image) * (1.0 / np.maximum(paper, DARKEST_PAPER))
    else:
        diff = image - paper
    if diff.ndim == 3:
        diff = diff.max(axis=2)
    return np.clip(diff, 0.0, 1.0, dtype=np.float32)


def _is_noise(ink: NDArray[np.float32]) -> bool:
    """Whether the ink is random noise: neighbouring pixels no more alike than any two.

    Pen strokes are wider than a pixel, so each ink pixel's right or lower
    neighbour is ink too: the lag-1 correlation is high in some direction. In
    noise (static, random pixels) it is near zero, however much "ink" there is.
    ink: (h, w) float32, ink high; uniform ink is not noise (nothing to read).
    """
    centred = ink - np.float32(cv2.mean(ink)[0])
    flat = centred.ravel()  # dot products of flat views: BLAS, 5x einsum's speed
    spread = float(flat @ flat)
    if spread == 0.0:
        return False
    # pixel and right neighbour: flat shifted by one, less the pairs that wrap rows
    across = float(flat[1:] @ flat[:-1] - centred[:-1, -1] @ centred[1:, 0])
    down = float(flat[ink.shape[1] :] @ flat[: -ink.shape[1]])
    return max(across, down) < NOISE_LINK * spread


def _baseline(line: NDArray[np.bool_], mask: NDArray[np.uint8]) -> bool:
    """Whether the one horizontal line found across the picture in `mask` is
    a printed baseline: a piece of ink of its own, little more than the
    line, with ink above it. (A 7's bar is joined to its stem or lies above it; the
    bar of a 5 drawn apart lies above.)"""
    _, pieces = cv2.connectedComponents(mask, connectivity=8)
    own = np.unique(pieces[line & (mask > 0)])
    own = own[own > 0]
    if own.size != 1:
        return False
    piece = pieces == own[0]
    rest = (mask > 0) & ~piece
    if not rest.any() or piece.sum() > LINE_PIECE * line.sum():
        return False
    rows = np.arange(mask.shape[0])
    return rows[rest.any(axis=1)].mean() < rows[piece.any(axis=1)].mean()


def _underline(
    mask: NDArray[np.uint8], rect: tuple[int, int, int, int]
) -> NDArray[np.uint8] | None:
    """The line drawn under a number, where its ink ends in one: a flat piece
    of its own (at most UNDERLINE_FLAT of the rest's height) across LINE_SPAN
    of the ink's width at its bottom (UNDERLINE_BAND), under the rest. A 2's
    base is joined to the 2. rect: the ink's bounding box. None where there is
    none.
    """
    x, y, w, h = rect
    run = round(w * LINE_SPAN)
    band = max(3, round(UNDERLINE_BAND * h))
    bottom = cv2.dilate(mask[y + h - band : y + h], np.ones((3, 1), np.uint8))
    rows = bottom.sum(axis=1)
    if w == 0 or rows.max() < run:
        return None  # the ink's bottom is no long line: a digit, most numbers
    row = y + h - band + int(rows.argmax())
    near = mask[max(0, row - 1) : row + 2]  # the line's pixels around that row
    ys, xs = np.nonzero(near)
    seed = (int(xs[0]), max(0, row - 1) + int(ys[0]))
    filled = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), np.uint8)
    flags = 8 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    _, _, _, (px, py, pw, ph) = cv2.floodFill(mask, filled, seed, 1, 0, 0, flags)
    piece = filled[1:-1, 1:-1]
    rest = mask.sum(axis=1, dtype=np.int64) - piece.sum(axis=1, dtype=np.int64)
    above = np.flatnonzero(rest)
    if pw < run or not above.size:
        return None
    height = above[-1] - above[0] + 1
    if ph > UNDERLINE_FLAT * height or above.mean() >= py + ph / 2:
        return None
    return piece


def _remove_lines(
    ink: NDArray[np.float32], mask: NDArray[np.uint8], rect: tuple[int, int, int, int]
) -> NDArray[np.float32]:
    """Erase ruled or squared paper lines: long, thin runs across the picture.

    A direction counts as ruled only when two or more lines are found, each
    crossing LINE_SPAN of the picture and thinner than LINE_THICKNESS of it, so
    a long pen stroke (a tall 1, a 7's bar) is not taken for paper; or one line,
    when it is a baseline (_baseline); or a line drawn under the ink
    (_underline). Lines are looked for in everything darker than the paper by
    MIN_CONTRAST (grey lines are much fainter than the ink): `mask`, whose
    bounding box is `rect`; where ink crosses a lighter line, the ink is kept.
    Returns `ink` itself where there is no line.
    """
    h, w = ink.shape
    found = np.zeros_like(mask)
    extents = rect[2:]  # width, height of all ink
    for along, across, horizontal in ((w, h, True), (h, w, False)):
        run = round(along * LINE_SPAN)
        if extents[0 if horizontal else 1] < run:
            continue  # the ink does not reach across: no line (a drawing, a digit)
        slant = (3, 1) if horizontal else (1, 3)  # (rows, cols): tolerate a slight tilt
        kernel = (1, run) if horizontal else (run, 1)
        tolerant = cv2.dilate(mask, np.ones(slant, np.uint8))
        if tolerant.sum(axis=1 if horizontal else 0).max() < run:
            continue  # no row (column) has enough ink to hold a line
        lines = cv2.morphologyEx(tolerant, cv2.MORPH_OPEN, np.ones(kernel, np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(lines)
        extent = cv2.CC_STAT_HEIGHT if horizontal else cv2.CC_STAT_WIDTH
        thin = [
            i
            for i in range(1, count)
            if stats[i, extent] <= 3 + LINE_THICKNESS * across
        ]
        if len(thin) >= 2 or (
            horizontal and len(thin) == 1 and _baseline(labels == thin[0], mask)
        ):
            found |= np.isin(labels, thin).astype(np.uint8)
    if not found.any():
        found = _underline(mask, rect)
    if found is None or not found.any():
        return ink
    line = _quantile(ink[(found > 0) & (mask > 0)], 0.5)
    crossing = ink > (line + float(ink.max())) / 2  # ink darker than the lines
    erase = cv2.dilate(found, np.ones((3, 3), np.uint8)).astype(bool) & ~crossing
    return np.where(erase, 0.0, ink).astype(np.float32)


def _boxed(mask: NDArray) -> bool:
    """Whether ink cropped to its bounding box runs along all four of its
    sides (within FRAME_BAND, over FRAME_SIDES of each), as a box does."""
    band = max(2, round(FRAME_BAND * min(mask.shape)))
    strips = (
        (mask[:band], 0),
        (mask[-band:], 0),
        (mask[:, :band], 1),
        (mask[:, -band:], 1),
    )
    return all(  # one side at a time: most ink fails at the first
        np.count_nonzero(strip.any(axis=axis)) >= FRAME_SIDES * strip.shape[1 - axis]
        for strip, axis in strips
    )


def _is_frame(
    label: int, labels: NDArray[np.integer], stats: NDArray[np.integer]
) -> bool:
    """Whether piece `label` is a box around other pieces: along the edges
    of its bounding box and nowhere else, around ink FRAME_CONTENT of its
    height."""
    x, y, w, h = stats[label, :4]
    others = np.delete(stats[1:], label - 1, axis=0)
    inside = others[
        (others[:, 0] > x)
        & (others[:, 1] > y)
        & (others[:, 0] + others[:, 2] < x + w)
        & (others[:, 1] + others[:, 3] < y + h)
    ]
    if not len(inside):
        return False
    if (inside[:, 1] + inside[:, 3]).max() - inside[:, 1].min() < FRAME_CONTENT * h:
        return False
    own = labels[y : y + h, x : x + w] == label
    band = max(2, round(FRAME_BAND * min(w, h)))
    return _only_walls(own[band:-band, band:-band], band) and _boxed(own)


def _only_walls(inner: NDArray[np.bool_], band: int) -> bool:
    """Whether a box's own ink inside its edges (`inner`) is nothing, or only
    walls: lines at most 2 * band wide from its top to its bottom, evenly
    spaced, as between the cells of a comb (one box per digit on a form). A
    1 touching the top and bottom of its cell is no wall: the cells would
    differ in width."""
    columns = np.flatnonzero(inner.any(axis=0))
    if not columns.size:
        return True
    runs = np.split(columns, np.flatnonzero(np.diff(columns) > 1) + 1)
    for run in runs:
        wall = inner[:, run[0] : run[-1] + 1]
        if len(run) > 2 * band or wall.any(axis=1).mean() < WALL_SPAN:
            return False
    edges = [-band, *(run.mean() for run in runs), inner.shape[1] + band]
    cells = np.diff(edges)
    return bool(cells.max() <= WALL_EVEN * cells.min())


def _remove_frames(
    ink: NDArray[np.float32], mask: NDArray[np.uint8], rect: tuple[int, int, int, int]
) -> NDArray[np.float32]:
    """Erase a box printed around digits (a form's field, a worksheet's
    answer box, a comb of one cell per digit): the outermost piece of ink
    (`mask`, bounding box `rect`), when it encloses a digit (_is_frame). A
    digit touching its box is one piece with it, and is left alone. Returns
    `ink` itself where there is none.
    """
    x, y, w, h = rect
    if w == 0 or not _boxed(mask[y : y + h, x : x + w]):  # no box outermost
        return ink
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    frames = [i for i in range(1, count) if _is_frame(i, labels, stats)]
    if not frames:
        return ink
    erase = cv2.dilate(
        np.isin(labels, frames).astype(np.uint8), np.ones((3, 3), np.uint8)
    )
    return np.where(erase > 0, 0.0, ink).astype(np.float32)


def _remove_marks(ink: NDArray[np.float32]) -> tuple[NDArray[np.float32], str]:
    """Erase what paper and forms print around handwriting: lines, then a box.

    Returns the ink and what was removed ("lines", "boxes", both joined by
    "and", or ""). Small pictures (a single digit, MNIST) are left alone.
    """
    if min(ink.shape) < LINE_MIN_SIDE:
        return ink, ""
    mask = (ink >= MIN_CONTRAST).astype(np.uint8)
    rect = cv2.boundingRect(mask)
    unlined = _remove_lines(ink, mask, rect)
    if unlined is not ink:
        mask = (unlined >= MIN_CONTRAST).astype(np.uint8)
        rect = cv2.boundingRect(mask)
    unboxed = _remove_frames(unlined, mask, rect)
    steps = (("lines", ink, unlined), ("boxes", unlined, unboxed))
    return unboxed, " and ".join(what for what, a, b in steps if b is not a)


def _biggest_piece(mask: NDArray[np.uint8]) -> int:
    """The longer side, in pixels, of the largest 8-connected piece's bounding box."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return max((max(cv2.boundingRect(c)[2:]) for c in contours), default=0)


def _shrink(ink: NDArray[np.float32]) -> tuple[NDArray[np.float32], float]:
    """Shrink clean ink by a whole factor so no piece is taller than DIGIT_HEIGHT.

    Digits are read at 20 px; segmentation and the pen adjustment need no
    more than a few times that, and a canvas digit 250 px tall would cost
    four times the work. A whole factor makes the shrink an exact box filter
    (and ten times faster than a fractional one); the picture is padded with
    paper at the right and bottom to a multiple of it. Strokes are kept at
    least SHRUNK_PEN wide (their width estimated from ink area and outline):
    a 1 px line is not shrunk to a faint thread. Returns the ink and the
    scale applied (1/factor).
    """
    mask = (ink > 0).view(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    tallest = max((cv2.boundingRect(c)[3] for c in contours), default=0)
    outline = sum(cv2.arcLength(c, closed=True) for c in contours)
    pen = 2 * cv2.sumElems(ink)[0] / max(outline, 1.0)  # ink area / stroke length
    factor = min(math.ceil(tallest / DIGIT_HEIGHT), int(pen / SHRUNK_PEN))
    if factor <= 1:
        return ink, 1.0
    h, w = ink.shape
    bottom, right = -h % factor, -w % factor
    padded = cv2.copyMakeBorder(ink, 0, bottom, 0, right, cv2.BORDER_CONSTANT, value=0)
    size = ((w + right) // factor, (h + bottom) // factor)
    small = cv2.resize(padded, size, interpolation=cv2.INTER_AREA)
    # a line thinner than the factor fades to a fraction of its strength:
    # stretch again so strokes reach 1 (thick strokes already do)
    strong = _quantile(small[small > 0], STROKE_CORE)
    return np.minimum(small / strong, 1.0), 1.0 / factor


def _stretch(ink: NDArray[np.float32]) -> NDArray[np.float32]:
    """Cut the noise floor so paper is exactly 0; stretch ink so strokes reach 1.

    Otsu's threshold splits ink from paper; the floor sits just above the
    paper's own noise (higher for JPEG photos). Clean paper (canvases, MNIST)
    has none: then nothing is cut, so anti-aliased edges survive and an MNIST
    digit keeps its centre of mass. Ink above the floor is kept only where it
    touches ink above Otsu's threshold (hysteresis): a noise pixel above the
    floor is an isolated speck, a stroke's rim is not.
    Raises EmptyImageError when no piece of ink is big enough to be a digit
    (MIN_DIGIT): dust and single dark pixels are not a guess.
    """
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        raise EmptyImageError
    levels = cv2.convertScaleAbs(ink, alpha=255 / peak)
    otsu, strong = cv2.threshold(levels, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    threshold = otsu / 255 * peak
    # the rest looks only at the ink and REACH px around it: the paper beyond
    # is exactly 0 and surely paper (a drawing on a canvas: half the work)
    x, y, w, h = cv2.boundingRect((ink > 0).view(np.uint8))
    x0, y0 = max(0, x - REACH), max(0, y - REACH)
    region = (slice(y0, y + h + REACH), slice(x0, x + w + REACH))
    whole, ink, strong = ink, ink[region], strong[region]
    stroke = strong.view(bool)
    near = np.ones((2 * REACH + 1, 2 * REACH + 1), np.uint8)
    far = cv2.dilate(strong, near) == 0  # surely paper
    _, far_peak, _, _ = cv2.minMaxLoc(ink, far.view(np.uint8))
    beyond = whole.size - ink.size
    noise = _ink_quantile(ink, far, 0.995, beyond) if far_peak > 0 else 0.0
    floor = 0.0 if noise == 0.0 else min(noise * 1.2 + 0.02, 0.6 * threshold)
    full = _quantile(ink[stroke], 0.75) if stroke.any() else peak
    if full - floor < MIN_CONTRAST:
        raise EmptyImageError
    weak = (ink > floor).view(np.uint8)
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    attached = np.zeros(count, bool)
    attached[labels[stroke]] = True
    specks = not attached[1:].all()
    if specks:
        weak = attached[labels].view(np.uint8)
    if _biggest_piece(weak) < max(MIN_DIGIT_PX, MIN_DIGIT * max(whole.shape)):
        raise EmptyImageError
    stretched = np.zeros_like(whole)
    inked = stretched[region]  # 0 at the floor, 1 at full: in place
    np.subtract(ink, np.float32(floor), out=inked)
    inked *= np.float32(1.0 / (full - floor))
    np.clip(inked, 0.0, 1.0, out=inked)
    if specks:
        inked[weak == 0] = 0.0
    return stretched


# actions


def prepare(image: NDArray) -> Page:
    """Clean a picture to ink on empty paper; EmptyImageError when it shows nothing.

    image: (h, w), (h, w, 1|2|3|4) array of any numeric dtype (see as_float).
    """
    array = _checked(image)
    if array.dtype in (np.uint8, np.uint16):  # shrink before converting: less work
        working, scale = _downsize(array)
    else:
        working, scale = _downsize(as_float(array))
    flat = _composite(as_float(_gray(working)))
    paper, dark_ink = _paper(flat)
    ink = _ink(flat, paper, dark_ink)
    if ink.max() < MIN_CONTRAST or _is_noise(ink):
        raise EmptyImageError
    ink, scale = _enlarged(ink, scale)  # after the noise test: enlarging smooths
    unlined, removed = _remove_marks(ink)
    if _border(unlined).any():  # paper with noise: cut it at full resolution
        clean, factor = _shrink(_stretch(unlined))
    else:  # paper exactly 0 already (a drawing): shrunk first, a 4th of the work
        shrunk, factor = _shrink(unlined)
        clean = _stretch(shrunk)
    steps = [
        Step("input", working, "the picture as given"),
        Step(
            "flattened",
            paper,
            "paper colour (removed)" + (", dark ink" if dark_ink else ", light ink"),
        ),
        Step("ink", ink, "ink, as contrast with the paper"),
    ]
    if removed:
        steps.append(Step("lines", unlined, f"paper {removed} removed"))
    shrunk = f", shrunk {round(1 / factor)}x" if factor < 1 else ""
    steps.append(Step("clean", clean, f"noise cut: paper is exactly 0{shrunk}"))
    return Page(ink=clean, scale=scale * factor, steps=tuple(steps))


def pen_width(ink: NDArray[np.float32]) -> float:
    """Typical stroke width in pixels of the ink above half strength; 0.0 if none.

    The same estimator segmentation uses (segment.stroke_width): twice the
    distance to paper along the strokes' ridge, with ink at the frame measured
    against a zero border.
    """
    return stroke_width(ink > 0.5)


def _set_pen(crop: NDArray[np.float32], width: float) -> NDArray[np.float32]:
    """Thicken or thin strokes so that, once fitted to 20 px, they look like MNIST's.

    Strokes within PEN_BAND are left alone (MNIST's own digits included).
    Thin lines are thickened to MNIST's median pen; strokes thicker than the
    band are thinned only to its edge, since erosion also eats a digit's
    holes and ends. The change is made at PEN_SIDE, 4x the final size: small
    kernels for big crops, sub-pixel steps for MNIST-sized ones.
    width: the crop's pen_width, measured once by the caller.
    """
    h, w = crop.shape
    if width == 0.0:
        return crop
    ratio = width * BOX / max(h, w) / MNIST_PEN
    if PEN_BAND[0] <= ratio <= PEN_BAND[1]:
        return crop
    zoom = PEN_SIDE / max(h, w)
    size = (max(1, round(w * zoom)), max(1, round(h * zoom)))
    interpolation = cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR
    work = cv2.resize(crop, size, interpolation=interpolation)
    thin = ratio < PEN_BAND[0]
    target = (MNIST_PEN if thin else PEN_BAND[1] * MNIST_PEN) * PEN_SIDE / BOX
    radius = round(abs(target - pen_width(work)) / 2)
    if radius < 1:
        return crop
    kernel = cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)
    )
    if thin:
        pad = radius + 1
        padded = cv2.copyMakeBorder(
            work, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0.0
        )
        return cv2.dilate(padded, kernel)
    thinner = cv2.erode(work, kernel)
    return thinner if (thinner > 0.5).sum() >= 0.25 * (work > 0.5).sum() else crop


def digit_input(
    ink: NDArray[np.float32],
) -> tuple[NDArray[np.float32], tuple[Step, ...]]:
    """One digit's ink -> the (28, 28) float32 input in [0, 1], with its steps.

    ink: (h, w) float32 in [0, 1], ink high, paper exactly 0, only this digit.
    """
    x, y, w, h = ink_bbox(ink)
    crop = ink[y : y + h, x : x + w]
    width = pen_width(crop)
    pen = _set_pen(crop, width)
    x, y, w, h = ink_bbox(pen)
    fitted = fit_box(pen[y : y + h, x : x + w])
    centred = center_by_mass(fitted, whole=max(w, h) == BOX)  # not resampled: crisp
    centred = centred / max(float(centred.max()), 1e-3)
    steps = (
        Step("crop", crop, "the digit's ink"),
        Step("pen", pen, f"pen width {width:.1f} px -> MNIST-like"),
        Step("fitted", fitted, f"fitted to {BOX} px, aspect kept"),
        Step("centred", centred, "28x28, centre of mass in the middle"),
    )
    return centred, steps


def preprocess(image: NDArray) -> NDArray[np.float32]:
    """The whole picture as one digit: (28, 28) float32 in [0, 1], ink high.

    Raises EmptyImageError when there is no ink to read.
    """
    return digit_input(prepare(image).ink)[0]


def mass_centre(image: NDArray[np.float32]) -> tuple[float, float]:
    """(row, column) of the centre of mass; (nan, nan) for an empty image."""
    mass = float(image.sum())
    if mass == 0.0:
        return (math.nan, math.nan)
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / mass), float((cols * image).sum() / mass)

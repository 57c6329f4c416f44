"""digit_core.preprocess: any picture -> MNIST-style (28, 28) float32 in [0, 1].

Properties on synthetic drawings (digit_core.strokes templates, rendered), each
checked against a clean reference: the same drawing, black on white, with margins.

"Close to the reference" means: the mean absolute difference from the reference
is smaller than the reference's own change when moved by one pixel (the mean
of moving it right and moving it down). Moving a
digit by one pixel does not change what it is, and it is the smallest change a
re-drawing makes; for MNIST test digits it is ~0.066 (median).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from digit_core import preprocess as preprocess_lib
from digit_core import strokes
from digit_core.errors import DigitError, EmptyImageError
from digit_core.normalize import BOX
from digit_core.preprocess import (
    DIGIT_HEIGHT,
    as_float,
    digit_input,
    pen_width,
    prepare,
    preprocess,
)

CANVAS = 240  # reference canvas side, pixels; the digit is about 90 px tall in it
DIGIT = 112  # rendered digit side (strokes.render keeps a 10% margin inside it)

# helpers


def digit_ink(digit: int, size: int = DIGIT, thickness: float = 0.09) -> np.ndarray:
    """A hand-like drawing of `digit`: (size, size) float32, ink high, paper 0."""
    rng = np.random.default_rng(digit)
    template = strokes.TEMPLATES[digit][0]
    return strokes.render(strokes.jitter(template, rng), size, thickness)


def on_canvas(ink: np.ndarray, shape: tuple[int, int] = (CANVAS, CANVAS)) -> np.ndarray:
    """`ink` pasted in the middle of an empty canvas of `shape` (h, w)."""
    canvas = np.zeros(shape, np.float32)
    h, w = ink.shape
    top, left = (shape[0] - h) // 2, (shape[1] - w) // 2
    canvas[top : top + h, left : left + w] = ink
    return canvas


def black_on_white(ink: np.ndarray) -> np.ndarray:
    """Ink (float, ink high) as a uint8 picture of black ink on white paper."""
    return np.round(255 * (1.0 - ink)).astype(np.uint8)


def drawing(digit: int) -> np.ndarray:
    """The reference drawing's ink: (CANVAS, CANVAS) float32, ink high."""
    return on_canvas(digit_ink(digit))


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b).mean())


def one_pixel_change(image: np.ndarray) -> float:
    """How much moving `image` by one pixel changes it: mean over right and down."""
    return 0.5 * (
        mad(np.roll(image, 1, axis=1), image) + mad(np.roll(image, 1, axis=0), image)
    )


def moments_centre(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the centre of mass, by cv2.moments (an independent oracle)."""
    m = cv2.moments(image.astype(np.float32))
    return m["m01"] / m["m00"], m["m10"] / m["m00"]


def extent(mask: np.ndarray) -> tuple[int, int]:
    """(height, width) of the bounding box of a boolean mask."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def far_from(ink: np.ndarray, distance: int) -> np.ndarray:
    """Pixels more than `distance` pixels away from any drawn ink: surely paper."""
    near = cv2.dilate(
        (ink > 0).astype(np.uint8), np.ones((2 * distance + 1,) * 2, np.uint8)
    )
    return ~near.astype(bool)


def check_output(out: np.ndarray) -> None:
    """The output contract: (28, 28) float32 in [0, 1], finite, with ink."""
    assert out.shape == (28, 28)
    assert out.dtype == np.float32
    assert np.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out.max() > 0.5


def assert_close(out: np.ndarray, ref: np.ndarray, what: str) -> None:
    change, allowed = mad(out, ref), one_pixel_change(ref)
    assert change < allowed, (
        f"{what}: differs from the clean reference by {change:.3f} (mean abs), "
        f"more than a one-pixel shift ({allowed:.3f})"
    )


@pytest.fixture(scope="module")
def references() -> dict[int, np.ndarray]:
    """Each digit's clean reference output."""
    return {d: preprocess(black_on_white(drawing(d))) for d in range(10)}


# the output contract


@pytest.mark.parametrize("digit", range(10))
def test_output_is_mnist_style(digit):
    out = preprocess(black_on_white(drawing(digit)))
    check_output(out)
    row, col = moments_centre(out)
    assert abs(row - 14.0) < 0.5 and abs(col - 14.0) < 0.5
    # the ink (above half strength) fits 20x20 and its longer side is ~20
    height, width = extent(out > 0.5)
    assert max(height, width) <= BOX
    assert max(height, width) >= BOX - 2
    # faint rims included, one extra pixel at most (sub-pixel centring)
    assert max(extent(out > 0)) <= BOX + 1


@pytest.mark.parametrize("digit", range(10))
def test_paper_is_exactly_zero_around_the_digit(digit):
    """No faint grey rectangle: only the strokes and their anti-aliased rims."""
    out = preprocess(black_on_white(drawing(digit)))
    strong = cv2.dilate((out >= 0.5).astype(np.uint8), np.ones((5, 5), np.uint8))
    assert (out[strong == 0] == 0).all()


def test_input_is_not_modified():
    picture = black_on_white(drawing(3))
    before = picture.copy()
    preprocess(picture)
    prepare(picture)
    np.testing.assert_array_equal(picture, before)


def test_steps_are_named_in_order_and_end_in_the_input():
    page = prepare(black_on_white(drawing(5)))
    names = [step.name for step in page.steps]
    assert names[0] == "input" and names[-1] == "clean"
    assert names.index("flattened") < names.index("ink") < names.index("clean")
    np.testing.assert_array_equal(page.steps[-1].image, page.ink)
    out, steps = digit_input(page.ink)
    assert [s.name for s in steps] == ["crop", "pen", "fitted", "centred"]
    np.testing.assert_array_equal(steps[-1].image, out)
    for step in (*page.steps, *steps):
        assert np.isfinite(np.asarray(step.image, np.float64)).all()
        assert step.caption


# invariance: each variant of the drawing reads like the clean reference


def shifted(ink: np.ndarray) -> np.ndarray:
    return black_on_white(np.pad(ink, ((170, 30), (20, 310))))


def scaled(factor: float) -> Callable[[np.ndarray], np.ndarray]:
    def variant(ink: np.ndarray) -> np.ndarray:
        side = round(CANVAS * factor)
        interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
        return black_on_white(
            cv2.resize(ink, (side, side), interpolation=interpolation)
        )

    return variant


def white_on_black(ink: np.ndarray) -> np.ndarray:
    return np.round(255 * ink).astype(np.uint8)


def transparent(stroke: int) -> Callable[[np.ndarray], np.ndarray]:
    """A canvas export: RGBA, transparent paper, strokes of grey level `stroke`."""

    def variant(ink: np.ndarray) -> np.ndarray:
        rgba = np.zeros((*ink.shape, 4), np.uint8)
        rgba[..., :3] = stroke
        rgba[..., 3] = np.round(255 * ink)
        return rgba

    return variant


def coloured(ink_rgb: tuple[int, int, int], paper_rgb: tuple[int, int, int]):
    def variant(ink: np.ndarray) -> np.ndarray:
        paper = np.array(paper_rgb, np.float32)
        colour = np.array(ink_rgb, np.float32)
        mixed = paper * (1 - ink[..., None]) + colour * ink[..., None]
        return np.round(mixed).astype(np.uint8)

    return variant


def lit(light: Callable[[np.ndarray, np.ndarray], np.ndarray]):
    """Black-on-white paper under uneven light; light(rows, cols) in (0, 1]."""

    def variant(ink: np.ndarray) -> np.ndarray:
        rows, cols = np.indices(ink.shape) / (np.array(ink.shape)[:, None, None] - 1)
        picture = 255 * light(rows, cols) * (0.97 - 0.85 * ink)  # paper not pure white
        return np.round(picture).astype(np.uint8)

    return variant


def gradient(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return 0.55 + 0.45 * (0.7 * cols + 0.3 * rows)


def soft_shadow(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """A hand's shadow: the lower left darker by 40%, with a soft edge."""
    edge = np.clip((cols - rows + 0.2) / 0.3, 0.0, 1.0)
    return 0.6 + 0.4 * edge


def jpeg(quality: int, noise: float = 0.0):
    def variant(ink: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(quality)
        picture = black_on_white(ink).astype(np.float64)
        picture += rng.normal(0.0, noise, picture.shape)
        picture = np.clip(np.round(picture), 0, 255).astype(np.uint8)
        ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)

    return variant


def ruled(grey: int, squared: bool = False, spacing: int = 24):
    """Full-width lines of `grey` level, 2 px thick, behind the digit."""

    def variant(ink: np.ndarray) -> np.ndarray:
        paper = np.full(ink.shape, 255, np.uint8)
        for start in range(spacing // 2, ink.shape[0], spacing):
            paper[start : start + 2, :] = grey
        if squared:
            for start in range(spacing // 2, ink.shape[1], spacing):
                paper[:, start : start + 2] = grey
        return np.minimum(paper, black_on_white(ink))

    return variant


def on_a_line(grey: int, below: int = 8):
    """One full-width line, 2 px thick, `below` px under the digit: the
    baseline it was written on, the only line in the picture."""

    def variant(ink: np.ndarray) -> np.ndarray:
        picture = black_on_white(ink)
        bottom = int(np.flatnonzero((ink > 0.1).any(axis=1))[-1])
        picture[bottom + below : bottom + below + 2, :] = grey
        return picture

    return variant


def underlined(ink: np.ndarray) -> np.ndarray:
    """A line drawn by hand under the digit, a little wider than it, in ink."""
    picture = black_on_white(ink)
    rows = np.flatnonzero((ink > 0.1).any(axis=1))
    cols = np.flatnonzero((ink > 0.1).any(axis=0))
    start, end = (
        (int(cols[0]) - 6, int(rows[-1]) + 9),
        (int(cols[-1]) + 6, int(rows[-1]) + 11),
    )
    return cv2.line(picture, start, end, 20, 4)


def boxed(grey: int, gap: int = 10):
    """A box printed around the digit `gap` px from its ink, 2 px thick, on
    paper reaching 40 px beyond: a form's field, a worksheet's answer box."""

    def variant(ink: np.ndarray) -> np.ndarray:
        picture = black_on_white(np.pad(ink, 40))
        rows = np.flatnonzero((picture < 200).any(axis=1))
        cols = np.flatnonzero((picture < 200).any(axis=0))
        corners = (cols[0] - gap, rows[0] - gap), (cols[-1] + gap, rows[-1] + gap)
        return cv2.rectangle(picture, *corners, grey, 2)

    return variant


def tight(blur: float):
    """Cropped to the ink's visible box, as a dataset's tight crop: strokes
    run off every edge (blurred by `blur` px first, as a soft scan)."""

    def variant(ink: np.ndarray) -> np.ndarray:
        soft = cv2.GaussianBlur(ink, (0, 0), blur) if blur else ink
        rows = np.flatnonzero((soft > 0.25).any(axis=1))
        cols = np.flatnonzero((soft > 0.25).any(axis=0))
        crop = soft[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        return black_on_white(np.ascontiguousarray(crop))

    return variant


VARIANTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "shifted in a bigger canvas": shifted,
    "scaled 2x": scaled(2.0),
    "scaled 0.5x": scaled(0.5),
    "white on black": white_on_black,
    "transparent, black strokes": transparent(0),
    "transparent, white strokes": transparent(255),
    "blue ink on yellow paper": coloured((30, 50, 160), (240, 225, 170)),
    "red ink on white paper": coloured((200, 30, 30), (255, 255, 255)),
    "chalk on a green board": coloured((235, 235, 225), (40, 80, 50)),
    "light gradient": lit(gradient),
    "soft shadow": lit(soft_shadow),
    "dim light (a dark room)": lit(lambda rows, cols: np.full_like(rows, 0.4)),
    "dim light and a soft shadow": lit(
        lambda rows, cols: 0.45 * soft_shadow(rows, cols)
    ),
    "jpeg q75": jpeg(75),
    "noise 3% + jpeg q85": jpeg(85, noise=8.0),
    "light ruled lines (200)": ruled(200),
    "ruled lines (170)": ruled(170),
    "ruled lines (150)": ruled(150),
    "dark ruled lines (110)": ruled(110),
    "squared paper (180)": ruled(180, squared=True),
    "on a printed baseline (60)": on_a_line(60),
    "on a grey baseline (170)": on_a_line(170),
    "underlined by hand": underlined,
    "in a printed box (60)": boxed(60),
    "in a grey box (170), close": boxed(170, gap=3),
    "tightly cropped": tight(0.0),
    "tightly cropped, blurred": tight(1.0),
}


@pytest.mark.parametrize("variant", list(VARIANTS), ids=list(VARIANTS))
def test_variant_reads_like_the_clean_reference(variant, references):
    make = VARIANTS[variant]
    problems = []
    for digit in range(10):
        try:
            out = preprocess(make(drawing(digit)))
        except EmptyImageError:
            problems.append(f"{digit}: EmptyImageError")
            continue
        check_output(out)
        ref = references[digit]
        change, allowed = mad(out, ref), one_pixel_change(ref)
        if change >= allowed:
            problems.append(f"{digit}: {change:.3f} >= {allowed:.3f}")
    assert not problems, f"{variant}: " + "; ".join(problems)


DEGRADED = [
    "light gradient",
    "soft shadow",
    "blue ink on yellow paper",
    "chalk on a green board",
    "jpeg q75",
    "noise 3% + jpeg q85",
    "light ruled lines (200)",
    "ruled lines (170)",
    "ruled lines (150)",
    "dark ruled lines (110)",
    "squared paper (180)",
]


@pytest.mark.parametrize("variant", DEGRADED, ids=DEGRADED)
def test_paper_becomes_exactly_zero(variant):
    """Everything away from the drawn strokes is exactly 0 in the cleaned ink.

    Away: more than 4 px, or 8 px for JPEG, whose ringing fills the 8x8 blocks
    that strokes cross.
    """
    reach = 8 if "jpeg" in variant else 4
    problems = []
    for digit in range(10):
        ink = drawing(digit)
        page = prepare(VARIANTS[variant](ink))
        assert page.scale == 1.0
        left = int((page.ink[far_from(ink, reach)] > 0).sum())
        if left:
            problems.append(f"{digit}: {left} paper pixels are not 0")
    assert not problems, f"{variant}: " + "; ".join(problems)


@pytest.mark.parametrize("digit", range(10))
def test_shift_and_scale_keep_centre_and_box(digit):
    for make in (shifted, scaled(2.0), scaled(0.5)):
        out = preprocess(make(drawing(digit)))
        row, col = moments_centre(out)
        assert abs(row - 14.0) < 0.5 and abs(col - 14.0) < 0.5
        assert max(extent(out > 0.5)) <= BOX


SHAPES = {
    "zero as an ellipse": lambda c: cv2.ellipse(
        c, (140, 140), (70, 115), 0, 0, 360, 1.0, 16
    ),
    "open four": lambda c: cv2.line(
        cv2.polylines(c, [np.int32([[90, 20], [80, 170], [220, 170]])], False, 1.0, 16),
        (180, 20),
        (180, 265),
        1.0,
        16,
    ),
    "eight": lambda c: cv2.circle(
        cv2.circle(c, (140, 80), 55, 1.0, 16), (140, 195), 65, 1.0, 16
    ),
}


def at_page(ink: np.ndarray, page) -> np.ndarray:
    """Ink drawn at input size, resized to the page's working size (tall digits
    are shrunk to preprocess.DIGIT_HEIGHT)."""
    h, w = page.ink.shape
    return cv2.resize(ink, (w, h), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("name", list(SHAPES), ids=list(SHAPES))
def test_drawing_that_fills_the_canvas_reads_like_one_with_margins(name):
    """Canvas drawings fill the canvas; their long strokes are not paper lines."""
    filled = SHAPES[name](np.zeros((280, 280), np.float32))
    with_margins = on_canvas(filled, (700, 700))
    ref = preprocess(black_on_white(with_margins))
    out = preprocess(black_on_white(filled))
    assert_close(out, ref, name)
    page = prepare(black_on_white(filled))
    kept = (page.ink > 0.5)[at_page(filled, page) > 0.5].mean()
    assert kept > 0.95, f"{name}: only {kept:.0%} of the strokes kept"


def ink_height(ink: np.ndarray) -> int:
    rows = np.flatnonzero((ink > 0.5).any(axis=1))
    return int(rows[-1] - rows[0] + 1)


def tallest_piece(ink: np.ndarray) -> int:
    mask = (ink > 0).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return int(stats[1:, cv2.CC_STAT_HEIGHT].max())


@pytest.mark.parametrize("size", [60, 140, 400, 900])
def test_tall_digits_are_shrunk_to_the_working_height_and_read_alike(size):
    """Segmentation and the pen see at most DIGIT_HEIGHT px of digit: a bigger
    drawing costs no more work, and reads as the same 28x28 input."""
    ink = on_canvas(digit_ink(4, size=size), (size + 40, size + 40))
    page = prepare(black_on_white(ink))
    tall = tallest_piece(page.steps[-2].image)  # the ink before the shrink
    assert tallest_piece(page.ink) <= DIGIT_HEIGHT
    if tall <= DIGIT_HEIGHT:
        assert page.scale == 1.0 and page.ink.shape == ink.shape
    else:  # by the smallest whole factor that is enough
        factor = round(1 / page.scale)
        assert page.scale == 1 / factor
        assert tall / factor <= DIGIT_HEIGHT < tall / (factor - 1)
        assert f"shrunk {factor}x" in page.steps[-1].caption
    reference = preprocess(
        black_on_white(on_canvas(digit_ink(4, size=112), (152, 152)))
    )
    assert mad(preprocess(black_on_white(ink)), reference) < 0.05


def test_thick_marker_that_fills_the_canvas_keeps_its_strokes():
    lost = []
    for digit in range(10):
        ink = digit_ink(digit, size=400, thickness=0.2)
        page = prepare(black_on_white(ink))
        kept = (page.ink > 0.5)[at_page(ink, page) > 0.5].mean()
        if kept <= 0.95:
            lost.append(f"{digit}: {kept:.0%} kept")
    assert not lost, "; ".join(lost)


@pytest.mark.parametrize("contrast", [0.85, 0.35], ids=["ink", "pencil"])
def test_a_close_up_under_a_shadow_keeps_its_thick_strokes_whole(contrast):
    """Strokes an eleventh of the picture wide (more where they join) are ink,
    not shadow: the light estimate closed away a tenth, and left them hollow."""
    lost = []
    for digit in range(10):
        ink = on_canvas(digit_ink(digit, size=200, thickness=0.12), (280, 280))
        rows, cols = np.indices(ink.shape) / 279
        picture = 255 * soft_shadow(rows, cols) * (0.95 - contrast * ink)
        page = prepare(np.round(picture).astype(np.uint8))
        kept = (page.ink > 0.25)[at_page(ink, page) > 0.5].mean()
        if kept <= 0.95:
            lost.append(f"{digit}: {kept:.0%} kept")
    assert not lost, "; ".join(lost)


def walls(*columns: tuple[int, int, float]) -> np.ndarray:
    """A box's inside (100 x 300) with lines (start, stop, fraction of height)."""
    inner = np.zeros((100, 300), bool)
    for start, stop, height in columns:
        inner[: round(100 * height), start:stop] = True
    return inner


@pytest.mark.parametrize(
    ("inner", "comb"),
    [
        (walls(), True),
        (walls((98, 101, 1.0), (198, 202, 1.0)), True),  # three even cells
        (walls((149, 151, 1.0)), True),
        (walls((60, 62, 1.0)), False),  # uneven: a 1 touching top and bottom
        (walls((98, 101, 1.0), (198, 202, 0.6)), False),  # a stroke, no wall
        (walls((130, 170, 1.0)), False),  # a bar, too thick for a printed line
    ],
    ids=["empty", "comb of 3", "comb of 2", "off-centre", "short", "thick"],
)
def test_only_walls_between_even_cells_make_a_comb(inner, comb):
    assert preprocess_lib._only_walls(inner, band=8) is comb


def bar(width: float, angle: float, length: float = 300) -> np.ndarray:
    """A straight stroke, `width` x `length` px, as an exact polygon (no caps)."""
    rad = np.radians(angle)
    along = np.array([np.cos(rad), np.sin(rad)]) * length / 2
    across = np.array([-np.sin(rad), np.cos(rad)]) * width / 2
    corners = np.array(
        [along + across, along - across, -along - across, -along + across]
    )
    image = np.zeros((400, 400), np.float32)
    shift = 4  # sub-pixel corners
    points = np.round((corners + 200) * (1 << shift)).astype(np.int32)
    cv2.fillPoly(image, [points], 1.0, cv2.LINE_8, shift)
    return image


def test_pen_width_measures_straight_strokes():
    """pen_width of a bar is within 25% of its true width (area / length).

    Crops handed to the pen step touch their frame on every side ("cropped").
    """
    wrong = []
    for width in (4, 9, 16):
        for angle in (0, 45):
            for framed in (True, False):
                image = bar(width, angle)
                true_width = image.sum() / 300
                if not framed:
                    image = image[np.ix_(image.any(axis=1), image.any(axis=0))]
                measured = pen_width(image)
                if abs(measured - true_width) > 0.25 * true_width:
                    where = "with margin" if framed else "cropped"
                    wrong.append(
                        f"{width} px at {angle} deg, {where}: "
                        f"{measured:.1f} (true {true_width:.1f})"
                    )
    assert not wrong, "; ".join(wrong)


# blank and near-blank


def _blank_pictures() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    rows, cols = np.indices((200, 200)) / 199
    dot = np.full((100, 100), 255, np.uint8)
    dot[50, 50] = 0
    dust = np.full((300, 300), 255, np.uint8)
    dust[rng.integers(0, 300, 6), rng.integers(0, 300, 6)] = 0
    faint = np.full((100, 100), 255, np.uint8)
    cv2.line(faint, (30, 30), (70, 70), 247, 6)
    return {
        "white": np.full((100, 100), 255, np.uint8),
        "black": np.zeros((100, 100), np.uint8),
        "all ink (float ones)": np.ones((50, 50), np.float32),
        "uniform grey RGB": np.full((50, 60, 3), 128, np.uint8),
        "uniform colour RGBA": np.dstack(
            [
                np.full((40, 40, 3), (200, 20, 90), np.uint8),
                np.full((40, 40), 255, np.uint8),
            ]
        ),
        "fully transparent": np.zeros((50, 50, 4), np.uint8),
        "transparent with colour noise": np.dstack(
            [rng.integers(0, 256, (50, 50, 3)), np.zeros((50, 50))]
        ).astype(np.uint8),
        "1x1": np.zeros((1, 1), np.uint8),
        "one dark pixel of 8x8 (enlarged)": np.pad(
            [[0]], 4, constant_values=255
        ).astype(np.uint8),
        "light gradient only": np.round(255 * (0.5 + 0.5 * cols)).astype(np.uint8),
        "paper grain": np.clip(230 + rng.normal(0, 4, (200, 200)), 0, 255).astype(
            np.uint8
        ),
        "faint scribble (3%)": faint,
        "one dark pixel": dot,
        "six specks of dust": dust,
    }


BLANK = _blank_pictures()


@pytest.mark.parametrize("name", list(BLANK), ids=list(BLANK))
def test_blank_or_near_blank_raises_empty(name):
    with pytest.raises(EmptyImageError):
        preprocess(BLANK[name])


def _noise_pictures() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    salt = np.full((300, 300), 255, np.uint8)
    salt[rng.random((300, 300)) < 0.1] = 0
    ok, encoded = cv2.imencode(
        ".jpg",
        rng.integers(0, 256, (240, 320, 3), np.uint8),
        [cv2.IMWRITE_JPEG_QUALITY, 80],
    )
    assert ok
    return {
        "uniform grey 28x28": rng.integers(0, 256, (28, 28), np.uint8),
        "uniform grey 8x8 (enlarged)": rng.integers(0, 256, (8, 8), np.uint8),
        "uniform grey 300x300": rng.integers(0, 256, (300, 300), np.uint8),
        "uniform RGB 500x500": rng.integers(0, 256, (500, 500, 3), np.uint8),
        "uniform RGBA 200x200": rng.integers(0, 256, (200, 200, 4), np.uint8),
        "gaussian around grey": np.clip(rng.normal(128, 40, (256, 256)), 0, 255).astype(
            np.uint8
        ),
        "salt and pepper 10%": salt,
        "RGB noise as JPEG q80": cv2.imdecode(encoded, cv2.IMREAD_COLOR),
        "float noise 2000x2000 (scaled down)": rng.random((2000, 2000)),
    }


NOISE = _noise_pictures()


@pytest.mark.parametrize("name", list(NOISE), ids=list(NOISE))
def test_random_noise_is_not_a_digit(name):
    """Static fills the picture with "ink" but has no strokes: no digit, not a guess."""
    with pytest.raises(EmptyImageError):
        preprocess(NOISE[name])


# pen width


@pytest.fixture(scope="module")
def mnist_range(mnist) -> dict[str, tuple[float, float]]:
    """1st and 99th percentiles over MNIST test digits of pen width and ink cover."""
    digits = mnist.x_test[:2000].astype(np.float32) / 255
    widths = [pen_width(digit) for digit in digits]
    cover = (digits > 0.5).mean(axis=(1, 2))
    return {
        "pen": tuple(np.percentile(widths, [1, 99]).tolist()),
        "cover": tuple(np.percentile(cover, [1, 99]).tolist()),
    }


@pytest.mark.parametrize("pen", ["thin", "thick"])
@pytest.mark.parametrize("digit", range(10))
def test_pen_width_comes_out_in_mnist_range(digit, pen, mnist_range):
    """1 px lines on a 400 px canvas, and marker strokes a fifth of the digit high.

    Measured by pen_width and, as a cross-check, by the share of the frame
    that is ink; both must lie within MNIST's 1st-99th percentiles.
    """
    thickness = 1 / 400 if pen == "thin" else 0.16
    ink = on_canvas(digit_ink(digit, size=400, thickness=thickness), (800, 800))
    out = preprocess(black_on_white(ink))
    check_output(out)
    low, high = mnist_range["pen"]
    assert low <= pen_width(out) <= high
    low, high = mnist_range["cover"]
    assert low <= (out > 0.5).mean() <= high


# MNIST itself


def test_mnist_digits_pass_through_nearly_unchanged(mnist):
    """Preprocessing an image that is already MNIST-style leaves it MNIST-style."""
    digits = mnist.x_test[:1000]
    closer, broken = [], []
    for index, raw in enumerate(digits):
        original = raw.astype(np.float32) / 255
        out = preprocess(raw)
        closer.append(mad(out, original) < one_pixel_change(original))
        a, b = out > 0.5, original > 0.5
        if (a & b).sum() / (a | b).sum() < 0.5:
            broken.append(index)
    assert np.mean(closer) >= 0.97, f"only {np.mean(closer):.1%} nearly unchanged"
    assert not broken, f"x_test{broken[:10]} lost their shape"


@pytest.mark.parametrize("polarity", ["ink high", "ink low"])
def test_mnist_digit_either_polarity(mnist, polarity):
    raw = mnist.x_test[0]
    picture = raw if polarity == "ink high" else 255 - raw
    assert_close(preprocess(picture), raw.astype(np.float32) / 255, polarity)


# dtypes, channels and sizes


def as_dtype(picture: np.ndarray, dtype: str) -> np.ndarray:
    """A uint8 picture in another dtype, scaled the way that dtype is used."""
    unit = picture.astype(np.float64) / 255
    if dtype == "uint8":
        return picture
    if dtype == "uint16":
        return np.round(unit * 65535).astype(np.uint16)
    if dtype in ("float32", "float64"):
        return unit.astype(dtype)
    if dtype == "float 0-255":
        return picture.astype(np.float32)
    if dtype == "int32":
        return picture.astype(np.int32)
    if dtype == "bool":
        return unit > 0.5
    raise AssertionError(dtype)


def as_layout(picture: np.ndarray, layout: str, opaque: float) -> np.ndarray:
    """A grey picture as gray, (h, w, 1), gray+alpha, RGB or RGBA."""
    alpha = np.full_like(picture, opaque)
    if layout == "gray":
        return picture
    if layout == "gray (h, w, 1)":
        return picture[..., None]
    if layout == "LA":
        return np.dstack([picture, alpha])
    if layout == "RGB":
        return np.dstack([picture] * 3)
    if layout == "RGBA":
        return np.dstack([picture] * 3 + [alpha])
    raise AssertionError(layout)


# the value of an opaque alpha in each dtype, as callers use them
OPAQUE = {
    "uint8": 255,
    "uint16": 65535,
    "float32": 1.0,
    "float64": 1.0,
    "float 0-255": 255.0,
    "int32": 255,
    "bool": True,
}
DTYPES = ["uint8", "uint16", "float32", "float64", "float 0-255", "int32", "bool"]
LAYOUTS = ["gray", "gray (h, w, 1)", "LA", "RGB", "RGBA"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtypes_and_channel_layouts_are_accepted(dtype, layout, references):
    picture = as_dtype(black_on_white(drawing(2)), dtype)
    picture = as_layout(picture, layout, OPAQUE[dtype])
    out = preprocess(picture)
    check_output(out)
    if dtype == "bool":  # no anti-aliasing left: compare shapes only
        a, b = out > 0.5, references[2] > 0.5
        assert (a & b).sum() / (a | b).sum() > 0.6
    else:
        assert_close(out, references[2], f"{dtype} {layout}")


@pytest.mark.parametrize(
    ("dtype", "values", "expected"),
    [
        (np.uint8, [0, 255], [0.0, 1.0]),
        (np.uint16, [0, 65535], [0.0, 1.0]),
        (np.bool_, [False, True], [0.0, 1.0]),
        (np.float64, [0.25, 0.75], [0.25, 0.75]),  # already in [0, 1]: kept
        (np.float32, [-2.0, 2.0], [0.0, 1.0]),  # otherwise stretched
        (np.int64, [-5, 5], [0.0, 1.0]),
    ],
)
def test_as_float_scales_by_type(dtype, values, expected):
    out = as_float(np.array([values, values], dtype=dtype))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0], expected, atol=1e-6)


def test_huge_input_works(references):
    """4000x4000 (16 megapixels): scaled down to a bounded working size."""
    ink = cv2.resize(drawing(7), (4000, 4000), interpolation=cv2.INTER_LINEAR)
    page = prepare(black_on_white(ink))
    assert max(page.ink.shape) <= 1024 and page.scale < 1
    out = preprocess(black_on_white(ink))
    assert_close(out, references[7], "4000x4000")


@pytest.mark.parametrize(
    "shape", [(30, 2000), (2000, 30), (9, 9), (3, 3), (1, 50), (4000, 1)]
)
def test_odd_aspect_and_tiny_canvases(shape):
    picture = np.full(shape, 255, np.uint8)
    h, w = shape
    picture[
        h // 3 : max(h // 3 + 1, 2 * h // 3), w // 3 : max(w // 3 + 1, 2 * w // 3)
    ] = 0
    try:
        out = preprocess(picture)
    except EmptyImageError:
        return
    check_output(out)


# fuzzing: nothing but DigitError, and a valid output when it returns


@settings(max_examples=200, deadline=None)
@example(np.array([[-1e308, 0.0, 1e308]]))  # the range overflows float64
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.float16, np.float32, np.float64, np.int64]),
        shape=st.tuples(st.integers(1, 8), st.integers(1, 8)),
    )
)
def test_fuzz_as_float_gives_finite_unit_values(array):
    """as_float either refuses the array or returns float32 in [0, 1], finite."""
    try:
        out = as_float(array)
    except DigitError:
        return
    assert out.dtype == np.float32
    assert np.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 1.0


SHAPES_ANY = st.one_of(
    hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=12),
    st.tuples(st.integers(0, 40), st.integers(0, 40)),
    st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 6)),
)
DTYPES_ANY = st.one_of(
    hnp.unsigned_integer_dtypes(),
    hnp.integer_dtypes(),
    hnp.floating_dtypes(),
    hnp.boolean_dtypes(),
    hnp.complex_number_dtypes(),
)


def _check_fuzzed(array: np.ndarray) -> None:
    try:
        out = preprocess(array)
    except DigitError:
        return
    assert out.shape == (28, 28)
    assert out.dtype == np.float32
    assert np.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 1.0


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hnp.arrays(dtype=DTYPES_ANY, shape=SHAPES_ANY))
def test_fuzz_any_array_raises_only_digit_errors(array):
    _check_fuzzed(array)


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.float32, np.float64]),
        shape=st.tuples(st.integers(1, 30), st.integers(1, 30)),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=32),
    )
)
def test_fuzz_extreme_floats(array):
    _check_fuzzed(array)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([np.uint8, np.uint16, np.float32]),
    st.integers(1, 4),
)
def test_fuzz_random_scribbles(seed, dtype, channels):
    """Random strokes on random paper: a valid picture, whatever it shows."""
    rng = np.random.default_rng(seed)
    h, w = rng.integers(8, 300, 2)
    paper = rng.random()
    picture = np.full((h, w), paper, np.float32)
    for _ in range(rng.integers(0, 6)):
        points = (rng.random((rng.integers(2, 6), 2)) * (w, h)).astype(np.int32)
        cv2.polylines(picture, [points], False, rng.random(), int(rng.integers(1, 20)))
    picture += rng.normal(0, rng.random() * 0.1, picture.shape).astype(np.float32)
    picture = np.clip(picture, 0, 1)
    if channels > 1:
        picture = np.dstack([picture] * channels)
    if dtype is np.float32:
        _check_fuzzed(picture)
    else:
        _check_fuzzed(np.round(picture * np.iinfo(dtype).max).astype(dtype))

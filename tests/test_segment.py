"""digit_core.segment: a picture of a number -> its digits, left to right.

Numbers are composed from MNIST *test* digits at random sizes (0.6-1.6x each)
and gaps (0-12 px), like a hand writing a row of digits; fragments, specks and
touching digits are built from stroke templates. Numbers and touching digits
are split with the bundled model as judge, as the Recognizer splits them.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digit_core import level, outside, renders, strokes
from digit_core import segment as segment_lib
from digit_core.errors import EmptyImageError
from digit_core.preprocess import prepare
from digit_core.segment import Judge, Segment, segment, to_input_box

MARGIN = 16  # empty paper around a composed number, pixels
NUMBERS = 300  # random numbers per check: 97% of 300 leaves 9 mistakes


# helpers


def ink_crop(ink: np.ndarray) -> np.ndarray:
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def compose(
    digits: list[np.ndarray], rng: np.random.Generator, gaps: list[int] | None = None
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Digits (float, ink high) side by side, centred on one line, with margins.

    Returns the picture (black on white, uint8) and each digit's column span
    [start, stop) in it.
    """
    if gaps is None:
        gaps = rng.integers(0, 13, len(digits) - 1).tolist()
    height = max(d.shape[0] for d in digits)
    width = sum(d.shape[1] for d in digits) + sum(gaps)
    canvas = np.zeros((height + 2 * MARGIN, width + 2 * MARGIN), np.float32)
    x, spans = MARGIN, []
    for index, digit in enumerate(digits):
        h, w = digit.shape
        wobble = int(rng.integers(-2, 3)) if height > h + 4 else 0
        y = MARGIN + (height - h) // 2 + wobble
        canvas[y : y + h, x : x + w] = np.maximum(canvas[y : y + h, x : x + w], digit)
        spans.append((x, x + w))
        x += w + (gaps[index] if index < len(gaps) else 0)
    return np.round(255 * (1 - canvas)).astype(np.uint8), spans


def random_number(
    mnist, rng: np.random.Generator, length: int
) -> tuple[np.ndarray, str, list[tuple[int, int]]]:
    """`length` MNIST test digits in a row, each scaled 0.6-1.6x.

    Returns the picture, its label and the digits' column spans.
    """
    picks = rng.integers(0, len(mnist.x_test), length)
    digits = []
    for index in picks:
        digit = ink_crop(mnist.x_test[index].astype(np.float32) / 255)
        scale = rng.uniform(0.6, 1.6)
        h, w = digit.shape
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        digits.append(
            np.clip(cv2.resize(digit, size, interpolation=interpolation), 0, 1)
        )
    picture, spans = compose(digits, rng)
    return picture, "".join(str(int(mnist.y_test[i])) for i in picks), spans


def in_order(found: tuple[Segment, ...], spans: list[tuple[int, int]]) -> bool:
    """One segment per digit, left to right: segment i's centre in digit i's span."""
    if len(found) != len(spans):
        return False
    return all(
        start <= s.box[0] + s.box[2] / 2 < stop
        for s, (start, stop) in zip(found, spans, strict=True)
    )


def split(
    picture: np.ndarray, mode: str = "multi", judge: Judge | None = None
) -> tuple[Segment, ...]:
    return segment(prepare(picture).ink, mode, judge)


@pytest.fixture
def judge(recognizer) -> Judge:
    """The bundled model reading pieces of ink, as Recognizer.recognize uses it."""
    return recognizer.judge


def template_ink(template: strokes.Template, size: int = 112) -> np.ndarray:
    return ink_crop(strokes.render(template, size=size, thickness=0.08))


def pieces(ink: np.ndarray) -> int:
    """Connected pieces of ink (8-connected, above half strength)."""
    count, _ = cv2.connectedComponents((ink > 0.5).astype(np.uint8), connectivity=8)
    return count - 1


def roomy(ink: np.ndarray) -> tuple[np.ndarray, int]:
    """Ink on paper three times its size: ruled-line detection stays out of it.

    Returns the picture (black on white, uint8) and the ink's column offset in it.
    """
    h, w = ink.shape
    canvas = np.zeros((3 * h, 3 * w), np.float32)
    canvas[h : 2 * h, w : 2 * w] = ink
    return np.round(255 * (1 - canvas)).astype(np.uint8), w


# numbers from MNIST test digits


@pytest.mark.parametrize("length", [2, 4, 6])
def test_numbers_split_into_the_right_digits_in_order(mnist, judge, length):
    rng = np.random.default_rng(length)
    wrong = []
    for _ in range(NUMBERS // 3):
        picture, label, spans = random_number(mnist, rng, length)
        found = split(picture, judge=judge)
        if not in_order(found, spans):
            wrong.append(f"{label}: {len(found)} segments")
    rate = 1 - len(wrong) / (NUMBERS // 3)
    assert rate >= 0.97, f"{rate:.1%} right; e.g. {wrong[:8]}"


def test_four_digit_numbers_read_exactly(mnist, recognizer):
    """At least 97% of 300 random 4-digit numbers read exactly (issue 3, point 9)."""
    rng = np.random.default_rng(2026)
    wrong = []
    for _ in range(NUMBERS):
        picture, label, _ = random_number(mnist, rng, 4)
        digits = recognizer.recognize(picture, mode="multi").digits
        if digits != label:
            wrong.append(f"{label}->{digits}")
    rate = 1 - len(wrong) / NUMBERS
    assert rate >= 0.97, f"{rate:.1%} exact; e.g. {wrong[:10]}"


def test_boxes_hold_only_their_own_ink(mnist):
    rng = np.random.default_rng(5)
    picture, _, _ = random_number(mnist, rng, 4)
    page = prepare(picture)
    for part in split(picture):
        x, y, w, h = part.box
        assert part.ink.shape == (h, w)
        assert part.ink.dtype == np.float32
        assert x >= 0 and y >= 0
        assert x + w <= page.ink.shape[1] and y + h <= page.ink.shape[0]
        region = page.ink[y : y + h, x : x + w]
        assert (part.ink <= region + 1e-6).all()  # nothing added
        assert part.ink.max() > 0.5


@pytest.mark.parametrize("number", ["2026", "11", "1471", "7474", "1010"])
def test_number_drawn_across_a_canvas(number):
    """Digits as tall as the canvas, as people draw them: long strokes are not
    taken for ruled paper lines."""
    rng = np.random.default_rng(int(number))
    row = [
        template_ink(strokes.jitter(strokes.TEMPLATES[int(d)][0], rng, 0.3), size=260)
        for d in number
    ]
    picture, spans = compose(row, rng, gaps=[24] * (len(row) - 1))
    page = prepare(picture)  # digits this tall are shrunk: boxes at page.scale
    found = segment(page.ink, "multi")
    scaled = [(start * page.scale, stop * page.scale) for start, stop in spans]
    assert page.scale < 1
    assert in_order(found, scaled), f"{number}: {[s.box for s in found]}"


# fragments of one digit stay together


def moved(stroke: strokes.Stroke, dx: float, dy: float) -> strokes.Stroke:
    return tuple((x + dx, y + dy) for x, y in stroke)


FIVE_BODY = strokes.TEMPLATES[5][1][0]
FRAGMENTED: dict[str, strokes.Template] = {  # strokes ~4-7 px apart at 112 px
    "5 with a detached top bar": (FIVE_BODY, ((0.45, 0.05), (0.85, 0.03))),
    "4 in two strokes": (
        ((0.25, 0.05), (0.2, 0.6), (0.5, 0.6)),
        ((0.68, 0.05), (0.68, 0.95)),
    ),
    "7 in two strokes": (
        ((0.15, 0.06), (0.75, 0.06)),
        ((0.85, 0.2), (0.45, 0.95)),
    ),
    "crossed 7 with a broken bar": (
        ((0.15, 0.06), (0.85, 0.06), (0.42, 0.95)),
        ((0.3, 0.5), (0.48, 0.5)),
        ((0.78, 0.5), (0.92, 0.5)),
    ),
}


def broken(digit: int) -> np.ndarray:
    """A digit with a 2 px band erased across its middle: a pen that skipped."""
    ink = template_ink(strokes.TEMPLATES[digit][0]).copy()
    middle = ink.shape[0] // 2
    ink[middle - 1 : middle + 1, :] = 0
    return ink


def fragment_cases() -> dict[str, np.ndarray]:
    cases = {name: template_ink(t) for name, t in FRAGMENTED.items()}
    cases["0 broken across"] = broken(0)
    cases["8 broken across"] = broken(8)
    cases["1 broken across"] = broken(1)
    return cases


FRAGMENTS = fragment_cases()


@pytest.mark.parametrize("name", list(FRAGMENTS), ids=list(FRAGMENTS))
def test_fragments_of_one_digit_stay_together(name):
    ink = FRAGMENTS[name]
    assert pieces(ink) >= 2, "the test digit should be in pieces"
    found = split(roomy(ink)[0])
    assert len(found) == 1, f"{name}: {len(found)} segments"


@pytest.mark.parametrize("name", list(FRAGMENTS), ids=list(FRAGMENTS))
def test_fragments_stay_together_inside_a_number(name):
    rng = np.random.default_rng(0)
    neighbours = [template_ink(strokes.TEMPLATES[d][0]) for d in (2, 3)]
    row = [neighbours[0], FRAGMENTS[name], neighbours[1]]
    picture, spans = compose(row, rng, gaps=[14, 14])
    picture, offset = roomy(1 - picture.astype(np.float32) / 255)
    spans = [(a + offset, b + offset) for a, b in spans]
    found = split(picture)
    assert in_order(found, spans), f"{name}: {[s.box for s in found]}"


@pytest.mark.parametrize(("big", "small"), [(4, 3), (0, 5), (3, 2), (7, 0), (2, 6)])
def test_a_small_digit_beside_a_big_one_is_a_digit_not_a_fragment(big, small):
    """A digit a third as tall, centred beside a big one (sizes vary in a row)."""
    rng = np.random.default_rng(big)
    row = [
        template_ink(strokes.TEMPLATES[big][0]),
        template_ink(strokes.TEMPLATES[small][0], size=36),
    ]
    picture, spans = compose(row, rng, gaps=[10])
    picture, offset = roomy(1 - picture.astype(np.float32) / 255)
    found = split(picture)
    spans = [(a + offset, b + offset) for a, b in spans]
    assert in_order(found, spans), f"{big}{small}: {[s.box for s in found]}"


def open_zero() -> np.ndarray:
    """A 0 whose pen lifted just before closing: a gap at the top of the loop."""
    ink = template_ink(strokes.TEMPLATES[0][0]).copy()
    h, w = ink.shape
    ink[: h // 4, w // 2 - 4 : w // 2 + 4] = 0
    return ink


def test_an_open_0_cut_by_its_shape_is_read_as_one_0(judge):
    """Geometry cuts it where its two sides meet; the judge puts it together."""
    picture = roomy(open_zero())[0]
    assert len(split(picture)) == 2, "the test 0 should be cut by geometry alone"
    found = split(picture, judge=judge)
    assert len(found) == 1
    assert found[0].probabilities is not None
    assert int(found[0].probabilities.argmax()) == 0


# specks of noise are dropped


def salted(ink: np.ndarray, rng: np.random.Generator, dots: int = 40) -> np.ndarray:
    """Dots of 1-3 px radius on a canvas around `ink`, kept off the strokes."""
    h, w = ink.shape
    canvas = np.zeros((h + 120, w + 120), np.float32)
    canvas[60 : 60 + h, 60 : 60 + w] = ink
    keep_off = cv2.dilate((canvas > 0).astype(np.uint8), np.ones((9, 9), np.uint8))
    for _ in range(dots):
        y, x = rng.integers(0, canvas.shape[0]), rng.integers(0, canvas.shape[1])
        if not keep_off[y, x]:
            cv2.circle(canvas, (int(x), int(y)), int(rng.integers(1, 4)), 1.0, -1)
    return canvas


@pytest.mark.parametrize("digit", [1, 4, 7, 8])
def test_specks_around_a_digit_are_dropped(digit):
    rng = np.random.default_rng(digit)
    canvas = salted(template_ink(strokes.TEMPLATES[digit][0]), rng)
    found = split(roomy(canvas)[0])
    assert len(found) == 1, [s.box for s in found]
    x, y, w, h = found[0].box
    assert w < 112 and h < 112 + 10  # the digit's box, not the salt's


def test_specks_around_a_number_are_dropped():
    rng = np.random.default_rng(1)
    row = [template_ink(strokes.TEMPLATES[d][0]) for d in (2, 0, 2, 6)]
    picture, spans = compose(row, rng, gaps=[12, 12, 12])
    ink = 1 - picture.astype(np.float32) / 255
    found = split(roomy(salted(ink, rng, dots=60))[0])
    assert len(found) == 4, [s.box for s in found]


@pytest.mark.parametrize("index", [829, 868, 1336, 1381, 1519])
def test_one_drawn_digit_is_not_cut_into_parts_one_above_the_other(judge, index):
    """Canvas drawings (9s with long tails, a tilted 8, a 6, a 1 with a foot)
    that were read as two digits: their parts did not stand in a row."""
    picture, digit = outside.canvas_item(index)
    found = split(picture, "auto", judge)
    assert len(found) == 1, f"{digit}: {[s.box for s in found]}"


@pytest.mark.parametrize("index", [1591, 1761])
def test_a_thick_stroke_is_not_cut_along_its_length(judge, index):
    """Canvas 1s with a flag, drawn with a wide pen, that were read as "91" and
    "51": a drop-fall path down the stem left two parts sharing most of their
    width, as pieces of one digit do (segment.OVERLAP)."""
    picture, digit = outside.canvas_item(index)
    found = split(picture, "auto", judge)
    assert len(found) == 1, f"{digit}: {[s.box for s in found]}"


@pytest.mark.parametrize("index", [934, 1534, 1544])
def test_a_wide_digit_cut_by_its_shape_is_read_whole(recognizer, index):
    """Canvas 4s drawn wide: geometry cuts them, the judge puts each together
    though it is wider than MNIST's widest 4s (segment.REJOINED)."""
    picture, digit = outside.canvas_item(index)
    assert recognizer.recognize(picture, mode="auto").digits == str(digit)


def test_a_faint_scratch_beside_a_digit_is_dropped():
    """A 2 px line half as dark as the pen, 60% of the digit's height."""
    ink = template_ink(strokes.TEMPLATES[9][0])
    h, w = ink.shape
    canvas = np.zeros((h, w + 12), np.float32)
    canvas[:, :w] = ink
    canvas[h // 5 : 4 * h // 5, w + 8 : w + 10] = 0.5
    found = split(roomy(canvas)[0])
    assert len(found) == 1, [s.box for s in found]
    assert found[0].box[2] < w + 4  # the digit's box, without the scratch


# how well a reading's shape fits its class


def test_shape_fit_table_is_measured_on_mnist_train(mnist):
    """WIDTH_MEAN and WIDTH_SPREAD are log(width/height) of MNIST train's ink
    (> INK), per class: measured, not tuned."""
    ink = mnist.x_train > segment_lib.INK * 255
    columns, rows = ink.any(axis=1), ink.any(axis=2)
    width = columns.shape[1] - columns[:, ::-1].argmax(1) - columns.argmax(1)
    height = rows.shape[1] - rows[:, ::-1].argmax(1) - rows.argmax(1)
    ratio = np.log(width / height)
    for digit in range(10):
        mine = ratio[mnist.y_train == digit]
        assert abs(mine.mean() - segment_lib.WIDTH_MEAN[digit]) < 0.005
        assert abs(mine.std() - segment_lib.WIDTH_SPREAD[digit]) < 0.005


@pytest.mark.parametrize("digit", range(10))
def test_a_typical_shape_fits_and_a_wider_one_less(digit):
    typical = math.exp(segment_lib.WIDTH_MEAN[digit])
    scales = np.linspace(0.5, 5.0, 91)
    fits = [segment_lib._fit(digit, typical * k, 1.0) for k in scales]
    assert fits[:11] == [1.0] * 11  # narrower than usual is no sign of two digits
    assert fits == sorted(fits, reverse=True)
    assert fits[-1] == segment_lib.UNFIT
    assert any(segment_lib.UNFIT < f < 1.0 for f in fits)  # graded, not a step


# touching digits are split


TOUCHING = [(0, 0), (2, 3), (5, 7), (1, 4), (3, 8), (6, 9)]


def side_by_side(a: np.ndarray, b: np.ndarray, overlap: int) -> np.ndarray:
    """`b` drawn `overlap` px into `a`'s box, tops aligned."""
    pair = np.zeros((max(a.shape[0], b.shape[0]), a.shape[1] + b.shape[1] - overlap))
    pair[: a.shape[0], : a.shape[1]] = a
    x = a.shape[1] - overlap
    pair[: b.shape[0], x:] = np.maximum(pair[: b.shape[0], x:], b)
    return pair.astype(np.float32)


@pytest.mark.parametrize("extra", [0, 3], ids=["just-touching", "3px-more"])
@pytest.mark.parametrize(("left", "right"), TOUCHING)
def test_touching_digits_are_split_in_two(judge, left, right, extra):
    a = template_ink(strokes.TEMPLATES[left][0])
    b = template_ink(strokes.TEMPLATES[right][0])
    touch = next(o for o in range(1, a.shape[1]) if pieces(side_by_side(a, b, o)) == 1)
    overlap = touch + extra
    picture, offset = roomy(side_by_side(a, b, overlap))
    found = split(picture, judge=judge)
    assert len(found) == 2, f"{left}{right}: {[s.box for s in found]}"
    x = a.shape[1] - overlap
    centres = [offset + a.shape[1] / 2, offset + x + b.shape[1] / 2]
    for part, centre in zip(found, centres, strict=True):
        assert abs(part.box[0] + part.box[2] / 2 - centre) < 0.3 * part.box[2] + 4


def test_a_1_drawn_into_the_corner_of_a_4_is_cut_off_falling_up():
    """Every path falling down slips into the 4's open triangle; one falling
    up from between the 1 and the 4's slope cuts the 1 off, whole."""
    one = template_ink(strokes.TEMPLATES[1][0])
    four = template_ink(strokes.TEMPLATES[4][0])
    touch = next(
        o for o in range(1, one.shape[1]) if pieces(side_by_side(one, four, o)) == 1
    )
    part = segment_lib.trimmed(0, 0, side_by_side(one, four, touch + 3))
    assert part is not None

    def lefts(widely: bool) -> list[int]:
        return [a.box[2] for a, _ in segment_lib.halves(part, widely=widely)]

    assert all(w > 2 * one.shape[1] for w in lefts(widely=False))
    assert any(abs(w - one.shape[1]) <= 2 for w in lefts(widely=True))


@pytest.mark.parametrize("two", [584, 623])
def test_a_2_with_a_long_tail_is_read_as_one_2(recognizer, usps, two):
    """USPS 2s whose flat tail geometry cuts from the body (the tail reads as a
    doubtful 5 or 2, wider than nearly any): the tail is given back."""
    digits, _ = usps
    for seed in range(4):
        picture = renders.number_row(
            [digits[two], digits[595]], np.random.default_rng(seed)
        )
        assert recognizer.recognize(picture, mode="auto").digits == "29", seed


# tilted rows


@pytest.mark.parametrize("degrees", [10, -10], ids=["rising", "falling"])
def test_numbers_photographed_tilted_read_as_well_as_level(recognizer, usps, degrees):
    """USPS numbers turned 10 degrees read exactly within 2 points of level
    (rising, before rows were turned level: 91.5% of 200 vs 96.0%)."""
    numbers = outside.Usps(*usps, source="tests")
    level_right = tilted_right = 0
    for index in range(200):
        picture, label = outside.number_item(numbers, index)
        turned, _ = level.rotated(picture, degrees, fill=float(np.median(picture)))
        level_right += recognizer.recognize(picture).digits == label
        tilted_right += recognizer.recognize(turned).digits == label
    assert tilted_right >= level_right - 4, (tilted_right, level_right)


def test_a_rising_row_is_turned_level_and_boxed_in_the_picture(mnist, recognizer):
    rng = np.random.default_rng(3)
    digits = [ink_crop(mnist.x_test[i].astype(np.float32) / 255) for i in (3, 2, 1, 18)]
    picture, spans = compose(digits, rng, gaps=[8, 8, 8])
    turned, matrix = level.rotated(picture, 12.0, fill=255.0)
    reading = recognizer.recognize(turned)
    assert reading.digits == "".join(str(mnist.y_test[i]) for i in (3, 2, 1, 18))
    assert reading.steps[-1].name == "level"
    for (start, stop), found in zip(spans, reading.predictions, strict=True):
        x, y = matrix @ ((start + stop) / 2, picture.shape[0] / 2, 1.0)
        bx, by, bw, bh = found.box  # in the turned picture's pixels, as given
        assert bx <= x <= bx + bw and by <= y <= by + bh
        assert bx + bw <= turned.shape[1] and by + bh <= turned.shape[0]
    falling, _ = level.rotated(picture, -12.0, fill=255.0)
    assert "level" not in [step.name for step in recognizer.recognize(falling).steps]


def judged(read: int, probability: float, width: int, height: int) -> Segment:
    """A part of `width` x `height` the judge read as `read` with `probability`."""
    probabilities = np.full(10, (1 - probability) / 9, np.float32)
    probabilities[read] = probability
    ink = np.ones((height, width), np.float32)
    return Segment((0, 0, width, height), ink, probabilities)


@pytest.mark.parametrize(
    ("stroke", "absorbed"),
    [
        (judged(5, 0.44, 43, 21), True),  # unsure and flatter than nearly any 5
        (judged(5, 0.9999, 31, 18), False),  # a sure flat 5 is a digit
        (judged(5, 0.44, 14, 21), False),  # an unsure 5 of a common width
    ],
)
def test_only_a_stroke_that_reads_as_no_digit_hangs_from_its_neighbour(
    stroke, absorbed
):
    body = judged(2, 0.9998, 70, 55)
    for pair in ((body, stroke), (stroke, body)):
        assert segment_lib._beside_stroke(*pair) is (body if absorbed else None)


def two_rings(gap: int) -> np.ndarray:
    """Two 0-like rings `gap` px apart (-1: meeting at a point), one a little
    lower: geometry leaves them as they are, the judge decides."""
    ring = np.zeros((40, 20), np.float32)
    cv2.ellipse(ring, (10, 20), (7, 17), 0, 0, 360, 1.0, 3)
    pair = np.zeros((46, 40 + gap), np.float32)
    pair[:40, :20] = ring
    pair[6:, 20 + gap :] = np.maximum(pair[6:, 20 + gap :], ring)
    return roomy(pair)[0]


def zeros(doubts: list[float], wholes: list[float]) -> np.ndarray:
    """A judge's answer: each piece read as a 0 with its doubt, and its
    chance of being one whole digit."""
    return np.array(
        [[1 - d] + [d / 9] * 9 + [w] for d, w in zip(doubts, wholes, strict=True)],
        np.float32,
    )


def scripted_judge(
    whole: float, half: float, wholeness: tuple[float, float] = (1.0, 1.0)
) -> Judge:
    """Reads every piece as a 0: the pair with doubt `whole`, a half with
    `half`; the verifier finds the pair and a half whole with `wholeness`."""

    def judge(inks):
        pairs = [ink.shape[1] >= 30 for ink in inks]
        return zeros(
            [whole if pair else half for pair in pairs],
            [wholeness[0] if pair else wholeness[1] for pair in pairs],
        )

    return judge


@pytest.mark.parametrize(
    ("whole", "half", "parts"),
    [
        (0.1, 0.01, 2),  # doubtful, and the cut 10x clearer (CLEAR)
        (0.1, 0.05, 1),  # ...only 2x clearer
        (0.02, 1e-5, 2),  # fairly sure, but the cut 100x clearer (CLEARER)
        (0.02, 1e-3, 1),  # ...only 10x clearer
        (0.002, 1e-6, 1),  # sure: not questioned
    ],
)
def test_a_cut_must_read_much_clearer_the_surer_the_whole(whole, half, parts):
    found = split(two_rings(-1), judge=scripted_judge(whole, half))
    assert len(found) == parts, [s.box for s in found]


@pytest.mark.parametrize(
    ("wholeness", "parts"),
    [
        ((0.01, 0.99), 2),  # read surely as one 0, but not one whole digit: cut
        ((0.7, 0.99), 1),  # likely whole (over WHOLE): the sure reading stands
        ((0.01, 0.01), 1),  # no cut whole either: nothing better to offer
    ],
)
def test_a_sure_reading_that_is_not_whole_yields_to_a_whole_cut(wholeness, parts):
    """The network reads a 4 with a 1 touching it as 4 at 99.99%; the
    verifier says it is not one digit, and the cut's parts are."""
    found = split(two_rings(-1), judge=scripted_judge(1e-6, 1e-6, wholeness))
    assert len(found) == parts, [s.box for s in found]


@pytest.mark.parametrize(("wholeness", "parts"), [((0.99, 0.01), 1), ((0.99, 0.99), 2)])
def test_pieces_that_are_not_whole_are_joined_into_one_that_is(wholeness, parts):
    """Two pieces read surely, but neither whole (a 4 drawn in two strokes),
    are one digit when together they are."""
    found = split(two_rings(1), judge=scripted_judge(1e-6, 1e-6, wholeness))
    assert len(found) == parts, [s.box for s in found]


@pytest.mark.parametrize(("half", "parts"), [(0.1, 1), (0.02, 2)])
def test_a_join_must_replace_doubtful_parts(half, parts):
    """Two pieces read as one digit 1,000x more surely are joined only when
    they are doubtful themselves (DOUBT): a short 1 beside a 4 reads as one 4."""
    found = split(two_rings(1), judge=scripted_judge(1e-6, half))
    assert len(found) == parts, [s.box for s in found]


def test_sure_neighbours_are_read_once_each():
    """Two close pieces read surely are not also read joined: one judge call,
    one image each (a number written tightly costs no extra readings)."""
    calls = []
    sure = scripted_judge(1e-6, 1e-6)

    def judge(inks):
        calls.append(len(inks))
        return sure(inks)

    found = split(two_rings(1), judge=judge)
    assert len(found) == 2
    assert calls == [2]


def stretched_rings(stretch: float) -> np.ndarray:
    """two_rings(-1) drawn `stretch` times as wide: at 1.6 the pair is wider
    than all but 2% of MNIST's 0s (between TAIL and STRETCHED), each ring not."""
    picture = two_rings(-1)
    return cv2.resize(picture, None, fx=stretch, fy=1.0, interpolation=cv2.INTER_AREA)


def first_then_judge(first: float, later: float) -> Judge:
    """Reads every piece as a 0: those of its first call (the parts) with doubt
    `first`, those of later calls (the cuts) with `later`."""
    calls = []

    def judge(inks):
        doubt = later if calls else first
        calls.append(len(inks))
        return zeros([doubt] * len(inks), [1.0] * len(inks))

    return judge


@pytest.mark.parametrize(
    ("stretch", "first", "later", "parts"),
    [
        (1.6, 1e-4, 1e-5, 2),  # wider than most 0s, the cut as sure: two digits
        (1.6, 1e-5, 1e-3, 1),  # ...the cut less sure: one wide 0
        (1.0, 1e-4, 1e-5, 1),  # a common width: not questioned
    ],
)
def test_a_sure_but_unusually_wide_reading_yields_to_an_as_sure_cut(
    stretch, first, later, parts
):
    """The network reads two touching 3s as one 3 at 99.99%: a reading that
    wide is two digits when the cut reads as surely."""
    found = split(stretched_rings(stretch), judge=first_then_judge(first, later))
    assert len(found) == parts, [s.box for s in found]


# modes


def test_single_mode_gives_one_segment(mnist):
    rng = np.random.default_rng(9)
    picture, _, _ = random_number(mnist, rng, 4)
    found = split(picture, "single")
    assert len(found) == 1
    page = prepare(picture)
    x, y, w, h = found[0].box
    assert w > 0.8 * page.ink.shape[1] - 2 * MARGIN  # all of the number


@pytest.mark.parametrize("mode", ["auto", "multi", "single"])
def test_one_digit_gives_one_segment_in_every_mode(mode):
    found = split(roomy(template_ink(strokes.TEMPLATES[3][0]))[0], mode)
    assert len(found) == 1


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode"):
        segment(np.ones((10, 10), np.float32), "double")


@pytest.mark.parametrize("mode", ["auto", "multi", "single"])
def test_empty_ink_raises(mode):
    with pytest.raises(EmptyImageError):
        segment(np.zeros((50, 80), np.float32), mode)


# boxes back to the input picture


def test_to_input_box_docstring_example():
    assert to_input_box((10, 20, 5, 5), 0.5, (100, 100)) == (20, 40, 10, 10)


def test_to_input_box_at_scale_one_is_identity_within_the_picture():
    assert to_input_box((3, 4, 10, 20), 1.0, (100, 100)) == (3, 4, 10, 20)
    assert to_input_box((95, 90, 10, 20), 1.0, (100, 100)) == (95, 90, 5, 10)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 4000),
    st.integers(1, 4000),
    st.floats(0.05, 1.0),
    st.data(),
)
def test_to_input_box_round_trip_covers_the_original(width, height, scale, data):
    """A box taken to working pixels and back covers the original box, snugly."""
    x = data.draw(st.integers(0, width - 1))
    y = data.draw(st.integers(0, height - 1))
    w = data.draw(st.integers(1, width - x))
    h = data.draw(st.integers(1, height - y))
    x0, y0 = math.floor(x * scale), math.floor(y * scale)
    x1, y1 = math.ceil((x + w) * scale), math.ceil((y + h) * scale)
    working = (x0, y0, max(1, x1 - x0), max(1, y1 - y0))
    bx, by, bw, bh = to_input_box(working, scale, (width, height))
    assert 0 <= bx <= x and 0 <= by <= y
    assert x + w <= bx + bw <= width and y + h <= by + bh <= height
    slack = 1 / scale + 1  # one working pixel, plus rounding
    assert x - bx <= slack and y - by <= slack
    assert (
        bx + bw - (x + w) <= slack + 1 / scale
        and by + bh - (y + h) <= slack + 1 / scale
    )

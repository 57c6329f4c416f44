"""digit_core.recognize: the Recognizer API, errors in place, threads, imports."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from digit_core import renders, strokes
from digit_core.errors import DigitError, ImageDecodeError
from digit_core.recognize import Reading

ROOT = Path(__file__).resolve().parent.parent


def drawn(
    digit: int,
    shape: tuple[int, int] = (300, 400),
    at: tuple[int, int] = (90, 140),
    size: int = 120,
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A clean drawing of `digit` (black on white uint8) and its ink box (x, y, w, h).

    shape: (height, width) of the picture; at: (top, left) of the drawing.
    """
    ink = strokes.render(strokes.TEMPLATES[digit][0], size=size, thickness=0.09)
    canvas = np.zeros(shape, np.float32)
    top, left = at
    canvas[top : top + size, left : left + size] = ink
    rows, cols = np.flatnonzero(canvas.any(axis=1)), np.flatnonzero(canvas.any(axis=0))
    box = (
        int(cols[0]),
        int(rows[0]),
        int(cols[-1] - cols[0] + 1),
        int(rows[-1] - rows[0] + 1),
    )
    return np.round(255 * (1 - canvas)).astype(np.uint8), box


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def check_reading(reading: Reading, size: tuple[int, int]) -> None:
    """The documented shape of a Reading, for a picture of (width, height) `size`."""
    assert isinstance(reading, Reading)
    assert isinstance(reading.digits, str)
    assert reading.digits.isdigit() or reading.digits == ""
    assert len(reading.predictions) == len(reading.digits)
    assert reading.size == size
    assert reading.steps and reading.steps[0].name == "input"
    for p, char in zip(reading.predictions, reading.digits, strict=True):
        assert isinstance(p.digit, int) and 0 <= p.digit <= 9 and str(p.digit) == char
        assert len(p.probabilities) == 10
        assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in p.probabilities)
        assert sum(p.probabilities) == pytest.approx(1.0, abs=1e-4)
        assert p.confidence == max(p.probabilities)
        assert p.probabilities[p.digit] == p.confidence
        x, y, w, h = p.box
        assert all(isinstance(v, int) for v in p.box)
        assert x >= 0 and y >= 0 and w >= 1 and h >= 1
        assert x + w <= size[0] and y + h <= size[1]
        assert p.input.shape == (28, 28) and p.input.dtype == np.float32
        assert p.input.min() >= 0.0 and p.input.max() <= 1.0
    # boxes run left to right
    xs = [p.box[0] for p in reading.predictions]
    assert xs == sorted(xs)


def covers(
    box: tuple[int, int, int, int], inner: tuple[int, int, int, int], slack: int
) -> bool:
    x, y, w, h = box
    a, b, c, d = inner
    return (
        x <= a + slack
        and y <= b + slack
        and x + w >= a + c - slack
        and y + h >= b + d - slack
    )


# sources


SOURCES = ["str path", "Path", "bytes", "PIL", "numpy"]


@pytest.mark.parametrize("kind", SOURCES)
def test_recognize_accepts_every_source(recognizer, kind, tmp_path):
    picture, box = drawn(3)
    path = tmp_path / "three.png"
    path.write_bytes(png(picture))
    source = {
        "str path": str(path),
        "Path": path,
        "bytes": png(picture),
        "PIL": Image.fromarray(picture),
        "numpy": picture,
    }[kind]
    reading = recognizer.recognize(source)
    check_reading(reading, (400, 300))
    assert reading.digits == "3"
    assert covers(reading.predictions[0].box, box, slack=2)


def test_every_source_gives_the_same_reading(recognizer, tmp_path):
    picture, _ = drawn(7)
    path = tmp_path / "seven.png"
    path.write_bytes(png(picture))
    readings = [
        recognizer.recognize(source)
        for source in (path, png(picture), Image.fromarray(picture), picture)
    ]
    first = readings[0].predictions[0].probabilities
    for reading in readings[1:]:
        assert reading.digits == readings[0].digits
        np.testing.assert_allclose(
            reading.predictions[0].probabilities, first, atol=1e-5
        )


@pytest.mark.parametrize("mode", ["auto", "single", "multi"])
def test_modes_on_one_digit(recognizer, mode):
    picture, _ = drawn(5)
    reading = recognizer.recognize(picture, mode=mode)
    check_reading(reading, (400, 300))
    assert reading.mode == mode
    assert reading.digits == "5"


def test_unknown_mode_is_refused(recognizer):
    picture, _ = drawn(5)
    with pytest.raises(ValueError, match="mode"):
        recognizer.recognize(picture, mode="many")


def test_multi_reads_a_row_left_to_right_with_boxes(recognizer):
    canvas = np.full((300, 900), 255, np.uint8)
    boxes = []
    for index, digit in enumerate((2, 0, 2, 6)):
        picture, box = drawn(digit, (300, 220), (90, 50))
        canvas[:, 220 * index : 220 * index + 220] = picture
        boxes.append((box[0] + 220 * index, *box[1:]))
    reading = recognizer.recognize(canvas, mode="multi")
    check_reading(reading, (900, 300))
    assert reading.digits == "2026"
    for prediction, box in zip(reading.predictions, boxes, strict=True):
        assert covers(prediction.box, box, slack=2)


def test_touching_digits_are_read_apart(recognizer):
    """A 2 touching a 3 reads as one digit; segmentation's judge cuts it."""
    two = strokes.render(strokes.TEMPLATES[2][0], size=120, thickness=0.09)
    three = strokes.render(strokes.TEMPLATES[3][0], size=120, thickness=0.09)
    canvas = np.zeros((300, 400), np.float32)
    canvas[90:210, 80:200] = two
    canvas[90:210, 170:290] = np.maximum(canvas[90:210, 170:290], three)
    reading = recognizer.recognize(np.round(255 * (1 - canvas)).astype(np.uint8))
    check_reading(reading, (400, 300))
    assert reading.digits == "23"


def test_judged_readings_are_the_model_s_readings(recognizer, mnist):
    """Probabilities kept from segmentation's judge are what the model says."""
    row = np.concatenate([mnist.x_test[i] for i in (3, 5, 8)], axis=1)
    reading = recognizer.recognize(255 - np.pad(row, 12), mode="multi")
    assert len(reading.predictions) == 3
    inputs = np.asarray([p.input for p in reading.predictions])
    again = recognizer.predict(inputs)
    kept = np.asarray([p.probabilities for p in reading.predictions])
    np.testing.assert_allclose(kept, again, atol=1e-5)


@pytest.mark.parametrize("mode", ["auto", "single", "multi"])
def test_a_clean_digit_costs_one_model_call(recognizer, monkeypatch, mode):
    """Segmentation's judge reads only doubtful places; its reading is reused.

    The judge's one call runs both networks, the digit model and the verifier;
    mode single needs only the digit model.
    """
    calls = []

    def counting(method):
        def counted(inputs: np.ndarray) -> np.ndarray:
            calls.append(len(inputs))
            return method(inputs)

        return counted

    for name in ("_judgement", "predict"):
        monkeypatch.setattr(recognizer, name, counting(getattr(recognizer, name)))
    picture, _ = drawn(4)
    assert recognizer.recognize(picture, mode=mode).digits == "4"
    assert calls == [1]


def test_boxes_are_in_input_pixels_for_a_large_photo(recognizer):
    """A 3000x2000 picture is worked on scaled down; boxes come back in its pixels."""
    photo, truth = drawn(4, (2000, 3000), (700, 1800), size=480)
    reading = recognizer.recognize(photo)
    check_reading(reading, (3000, 2000))
    assert reading.digits == "4"
    assert covers(reading.predictions[0].box, truth, slack=8)
    x, y, w, h = reading.predictions[0].box
    assert w < 1.3 * truth[2] + 16 and h < 1.3 * truth[3] + 16


# blank and bad input


@pytest.mark.parametrize(
    "blank",
    [
        np.full((200, 200), 255, np.uint8),
        np.zeros((200, 200, 4), np.uint8),  # an untouched canvas
        np.full((64, 64, 3), 90, np.uint8),
    ],
    ids=["white", "transparent", "grey"],
)
def test_blank_gives_no_digits(recognizer, blank):
    reading = recognizer.recognize(blank)
    assert reading.digits == ""
    assert reading.predictions == ()
    assert reading.empty
    assert reading.steps[0].name == "input"
    assert reading.size == (blank.shape[1], blank.shape[0])


@pytest.mark.parametrize(
    "bad",
    [b"", b"not an image at all", "/no/such/file.png", np.zeros((3, 4, 5, 6))],
    ids=["empty bytes", "text", "missing path", "4-D array"],
)
def test_bad_input_raises_a_digit_error(recognizer, bad):
    with pytest.raises(DigitError) as info:
        recognizer.recognize(bad)
    assert info.value.user_message


def test_recognize_many_returns_errors_in_place(recognizer, tmp_path):
    seven, _ = drawn(7)
    two, _ = drawn(2)
    sources = [
        png(seven),
        b"this is text",
        np.full((50, 50), 255, np.uint8),
        tmp_path / "missing.png",
        two,
    ]
    results = recognizer.recognize_many(sources)
    assert len(results) == len(sources)
    assert isinstance(results[1], ImageDecodeError)
    assert isinstance(results[3], ImageDecodeError)
    assert isinstance(results[2], Reading) and results[2].digits == ""
    for index in (0, 4):
        alone = recognizer.recognize(sources[index])
        assert isinstance(results[index], Reading)
        assert results[index].digits == alone.digits
        np.testing.assert_allclose(
            results[index].predictions[0].probabilities,
            alone.predictions[0].probabilities,
            atol=1e-5,
        )
    assert results[0].digits == "7" and results[4].digits == "2"


def test_recognize_many_of_nothing(recognizer):
    assert recognizer.recognize_many([]) == []


def test_input_array_is_not_modified(recognizer):
    picture, _ = drawn(9)
    before = picture.copy()
    recognizer.recognize(picture)
    np.testing.assert_array_equal(picture, before)


# MNIST through the whole pipeline


def test_mnist_through_the_pipeline_reads_like_raw(recognizer, mnist):
    """Preprocessing an MNIST digit must not cost accuracy (issue 3, point 4)."""
    images, labels = mnist.x_test[:2000], mnist.y_test[:2000]
    raw = recognizer.predict(images.astype(np.float32) / 255).argmax(axis=1)
    readings = recognizer.recognize_many(list(images), mode="single")
    piped = np.array([int(r.digits) if r.digits else -1 for r in readings])
    raw_accuracy, piped_accuracy = (raw == labels).mean(), (piped == labels).mean()
    assert piped_accuracy >= raw_accuracy - 0.002, (
        f"raw {raw_accuracy:.2%}, through the pipeline {piped_accuracy:.2%}"
    )


@pytest.mark.parametrize("polarity", ["ink high", "ink low"])
@pytest.mark.parametrize("upscale", [1, 4])
def test_tightly_cropped_scans_read_like_scans_with_margins(
    recognizer, usps, polarity, upscale
):
    """USPS digits as their raw 16x16 arrays (or enlarged) fill the frame:
    blurred strokes run off every edge, which is not uneven light and no
    reason to read them worse than with paper around them."""
    images, labels = usps[0][:500], usps[1][:500]
    size = 16 * upscale
    tight = [cv2.resize(d, (size, size), interpolation=cv2.INTER_CUBIC) for d in images]
    tight = [np.round(255 * np.clip(d, 0, 1)).astype(np.uint8) for d in tight]
    if polarity == "ink low":
        tight = [255 - d for d in tight]
    margins = [renders.scan(d) for d in images]

    def accuracy(pictures):
        readings = recognizer.recognize_many(pictures, mode="single")
        read = np.array([int(r.digits) if r.digits else -1 for r in readings])
        return (read == labels).mean()

    tight_accuracy, margin_accuracy = accuracy(tight), accuracy(margins)
    assert tight_accuracy >= margin_accuracy - 0.004, (
        f"tight crops {tight_accuracy:.2%}, with margins {margin_accuracy:.2%}"
    )


@pytest.mark.parametrize("seed", range(4))
def test_an_underlined_number_reads_as_the_number(recognizer, usps, seed):
    """A line drawn under a written number is no digit (26% of underlined
    USPS numbers read right before, 96% after: as many as without it)."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(usps[1]), 4)
    picture = renders.number_row([usps[0][i] for i in picks], rng)
    plain = recognizer.recognize(picture, mode="auto").digits
    rows = np.flatnonzero((picture < 150).any(axis=1))
    cols = np.flatnonzero((picture < 150).any(axis=0))
    start = (int(cols[0]) - 5, int(rows[-1]) + 10)
    end = (int(cols[-1]) + 5, int(rows[-1]) + 12)
    underlined = cv2.line(picture.copy(), start, end, 40, 4)
    assert recognizer.recognize(underlined, mode="auto").digits == plain
    assert plain == "".join(str(int(usps[1][i])) for i in picks)


def comb(digits: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Digits (float, ink high) written one per cell of a printed comb of boxes."""
    scale = 4  # USPS's 16 px to a scan's 64
    cell = 16 * scale + int(rng.integers(16, 40))
    ink = np.zeros((cell + 60, cell * len(digits) + 60), np.float32)
    for index, digit in enumerate(digits):
        x0 = 30 + index * cell
        cv2.rectangle(ink, (x0, 30), (x0 + cell, 30 + cell), 0.8, 2)
        big = cv2.resize(digit, None, fx=scale, fy=scale)
        dx, dy = (int(v) for v in rng.integers(-6, 7, 2))
        top, left = 30 + (cell - 64) // 2 + dy, x0 + (cell - 64) // 2 + dx
        ink[top : top + 64, left : left + 64] = np.maximum(
            ink[top : top + 64, left : left + 64], np.clip(big, 0, 1)
        )
    return np.round(250 - 220 * ink).astype(np.uint8)


@pytest.mark.parametrize("seed", range(4))
def test_a_number_written_in_a_comb_of_boxes_reads_as_the_number(
    recognizer, usps, seed
):
    """A form's comb (one box per digit) is erased, walls included: before,
    it was one piece with the digits inside and read as a single digit."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(usps[1]), 4)
    reading = recognizer.recognize(comb([usps[0][i] for i in picks], rng))
    assert reading.digits == "".join(str(int(usps[1][i])) for i in picks)
    assert any("boxes" in step.caption for step in reading.steps)


@pytest.mark.parametrize(("side", "floor"), [(8, 0.88), (10, 0.95), (12, 0.97)])
def test_thumbnail_sized_digits_are_read(recognizer, mnist, side, floor):
    """MNIST digits shrunk to 8-12 px (an 8x8 scan draws a stroke in one
    pixel) are enlarged before cleaning: 92.8 / 97.6 / 98.8% of these 500
    read right (not enlarged, 2,000 of MNIST train's read 75.9 / 95.1 / 99.1%)."""
    images, labels = mnist.x_test[:500], mnist.y_test[:500]
    small = [cv2.resize(a, (side, side), interpolation=cv2.INTER_AREA) for a in images]
    readings = recognizer.recognize_many(small, mode="single")
    read = np.array([int(r.digits) if len(r.digits) == 1 else -1 for r in readings])
    assert (read == labels).mean() >= floor


def test_a_thumbnail_digit_s_box_is_in_its_own_pixels(recognizer, mnist):
    picture = cv2.resize(mnist.x_test[0], (10, 10), interpolation=cv2.INTER_AREA)
    (prediction,) = recognizer.recognize(picture, mode="single").predictions
    x, y, w, h = prediction.box
    rows, cols = np.nonzero(picture > 64)
    assert 0 <= x <= cols.min() and cols.max() < x + w <= 10
    assert 0 <= y <= rows.min() and rows.max() < y + h <= 10


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_a_thin_upright_stroke_reads_as_1(recognizer, width):
    """A hard-edged stem fills a box 1-2 px wide after fitting (cv2.moments
    once took a (20, 2) box for 20 points, and found no digit)."""
    picture = np.zeros((32, 32), np.uint8)
    picture[:, 14 : 14 + width] = 255
    assert recognizer.recognize(picture, mode="single").digits == "1"


# thread safety


def test_thirty_threads_read_like_sequential_calls(recognizer, mnist):
    """A class on one server: 30 sessions recognising different digits at once."""
    rng = np.random.default_rng(30)
    pictures = []
    for _ in range(30):
        picks = rng.integers(0, len(mnist.x_test), 3)
        row = np.concatenate([mnist.x_test[i] for i in picks], axis=1)
        pictures.append(255 - np.pad(row, 12))
    sequential = [recognizer.recognize(p, mode="multi") for p in pictures]
    start = threading.Barrier(30)

    def read(picture: np.ndarray) -> Reading:
        start.wait()
        return recognizer.recognize(picture, mode="multi")

    with ThreadPoolExecutor(max_workers=30) as pool:
        parallel = list(pool.map(read, pictures))
    for alone, together in zip(sequential, parallel, strict=True):
        assert together.digits == alone.digits
        for a, b in zip(alone.predictions, together.predictions, strict=True):
            assert a.box == b.box
            np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-5)


# imports


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("code", "banned"),
    [
        ("import digit_core, digit_core.preprocess", ("streamlit",)),
        ("from digit_core import Recognizer", ("streamlit",)),
        (
            "import digit_core.preprocess, digit_core.segment, digit_core.images,"
            " digit_core.normalize, digit_core.errors",
            ("keras", "tensorflow", "streamlit"),
        ),
    ],
    ids=["core-no-streamlit", "recognizer-no-streamlit", "light-modules-no-keras"],
)
def test_imports_stay_light(code, banned):
    check = (
        f"{code}\nimport sys\nprint(sorted(m for m in {banned!r} if m in sys.modules))"
    )
    result = run_python(check)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"{code!r} imported {result.stdout.strip()}"

"""Checks beyond the model's own 28x28 inputs: whole pictures through the pipeline.

The model's MNIST test figure says how well it reads digits already cut,
centred and scaled the MNIST way. Users give it pictures instead, of their own
handwriting, so these checks read pictures the way the app does
(`Recognizer.recognize_many`) and score what comes out:
- MNIST test images as given: preprocessing must leave MNIST-style input alone;
- USPS (scanned US zip-code digits, 16x16, writers not in MNIST), rendered as
  a small scan of dark ink on light paper, as a user would upload it;
- the outside-MNIST suites (`evaluate_outside`), read in the app's default mode
  "auto" (a digit split in two reads wrong): "canvas strokes", stroke templates
  drawn on the Draw page's canvas; "phone photos" of MNIST test and of USPS
  digits; "tight crops" of USPS digits, cut to their ink's box with no paper
  around; "numbers in a row", 4-digit numbers of USPS digits read whole, and
  the same numbers "tilted", turned up to 15 degrees either way; and
  "UCI digits", scikit-learn's bundled 8x8 scans by 13 other writers, read as
  the arrays it gives (where scikit-learn is installed).
  The canvas figure is optimistic: the same stroke templates feed a small part
  of every training batch (augment.AugmentConfig.synthetic_fraction), though
  jittered less and drawn smaller; the other suites use no training data.
A picture in which no digit is found counts as wrong. Every suite is seeded:
picture i is the same in every run, so a --limit run reads a prefix of a full one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from digit_core import evaluation, renders
from digit_core.errors import DigitError, UspsNotFoundError
from digit_core.evaluation import Evaluation

if TYPE_CHECKING:
    from digit_core.images import ImageSource
    from digit_core.recognize import Reading, Recognizer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
USPS_PATH = PROJECT_ROOT.parent / "shared" / "data" / "usps.npz"
USPS_SIDE = 16  # USPS digits are 16x16, ink stretched to fill the box
CHUNK = 512  # pictures per batched model call: bounds memory, keeps batches big
SUITE_SIZE = 2000  # pictures per outside suite: accuracy near 97% to +-0.4 points
NUMBER_LENGTH = 4  # digits in each number of the "numbers in a row" suite
SEED = 2026  # the suites' default seed
# One random stream per suite, so that changing one suite leaves the others alone.
CANVAS_STREAM, MNIST_PHOTO_STREAM, USPS_PHOTO_STREAM, NUMBER_STREAM = range(4)
TIGHT_STREAM, TILT_STREAM = 4, 5


@dataclass(frozen=True, slots=True)
class Usps:
    """The USPS test split: 2,007 digits by writers who are not in MNIST."""

    x: NDArray[np.float32]  # (N, 16, 16) in [0, 1], 0 = background, 1 = ink
    y: NDArray[np.uint8]  # (N,) in 0..9
    source: str  # the file it was loaded from


@dataclass(frozen=True, slots=True)
class PipelineEvaluation:
    """Scores of pictures read through the whole pipeline.

    `evaluation` covers every picture: accuracy and per-class accuracy count a
    picture with no digit found as wrong; such pictures are left out of the
    confusion matrix (its rows then sum to less than the class counts) and
    counted in `unread`.
    """

    evaluation: Evaluation
    unread: int


@dataclass(frozen=True, slots=True)
class NumberEvaluation:
    """Numbers read whole: each picture shows one number, its digits in a row."""

    count: int  # numbers
    exact: float  # fraction read exactly: every digit, nothing more
    digit_accuracy: float  # digits read right in place, of all digits; a number
    # split into the wrong number of digits counts all its digits wrong
    miscounted: int  # numbers split into the wrong number of digits (none: 0)


@dataclass(frozen=True, slots=True)
class OutsideEvaluation:
    """The outside-MNIST suites, each read through the whole pipeline, mode auto."""

    seed: int
    canvas: PipelineEvaluation  # stroke templates drawn on the canvas
    mnist_photos: PipelineEvaluation  # phone photos of MNIST test digits
    usps_photos: PipelineEvaluation  # phone photos of USPS digits
    usps_tight: PipelineEvaluation  # USPS digits cut to their ink's box
    numbers: NumberEvaluation  # 4-digit numbers of USPS digits, read whole
    tilted_numbers: NumberEvaluation  # the same numbers turned up to 15 degrees
    uci_digits: PipelineEvaluation | None  # UCI 8x8 scans as given (scikit-learn)


# helpers


def _validate_usps(x: np.ndarray, y: np.ndarray, source: str) -> None:
    if x.ndim != 3 or x.shape[1:] != (USPS_SIDE, USPS_SIDE) or y.shape != x.shape[:1]:
        msg = f"{source}: shapes {x.shape}, {y.shape} are not USPS's (N, 16, 16), (N,)"
        raise UspsNotFoundError(msg)
    if not np.issubdtype(x.dtype, np.floating) or not np.issubdtype(
        y.dtype, np.integer
    ):
        msg = f"{source}: dtypes {x.dtype}, {y.dtype} are not USPS's float, integer"
        raise UspsNotFoundError(msg)
    if len(y) and (y.min() < 0 or y.max() > 9):
        msg = f"{source}: labels outside 0..9"
        raise UspsNotFoundError(msg)
    if len(x) and (x.min() < 0.0 or x.max() > 1.0):
        msg = f"{source}: pixels outside [0, 1]"
        raise UspsNotFoundError(msg)


def _read_label(reading: Reading | DigitError) -> int:
    """The one digit read from a picture, or -1: an error, no digit, or several."""
    if isinstance(reading, DigitError) or len(reading.predictions) != 1:
        return -1
    return reading.predictions[0].digit


def _read_number(reading: Reading | DigitError) -> str:
    """The digits read from a picture, left to right; "" for an error or none."""
    return "" if isinstance(reading, DigitError) else reading.digits


def _rng(seed: int, stream: int, index: int) -> np.random.Generator:
    """Picture `index`'s own generator: the same picture whatever the suite's size."""
    return np.random.default_rng([seed, stream, index])


# actions


def load_usps(path: str | os.PathLike[str] | None = None) -> Usps:
    """The USPS test split from `path` (default ../shared/data/usps.npz).

    Raises UspsNotFoundError (a DatasetNotFoundError) when the file is missing
    or does not hold x (N, 16, 16) float in [0, 1] and y (N,) labels 0..9.
    """
    path = Path(path) if path is not None else USPS_PATH
    if not path.is_file():
        msg = f"USPS file not found: {path}"
        raise UspsNotFoundError(msg)
    try:
        with np.load(path, allow_pickle=False) as npz:
            x, y = npz["x"], npz["y"]
    except (OSError, ValueError, EOFError, KeyError) as exc:
        msg = f"{path}: not a USPS .npz file with arrays x and y ({exc})"
        raise UspsNotFoundError(msg) from exc
    _validate_usps(x, y, str(path))
    return Usps(x.astype(np.float32), y.astype(np.uint8), str(path))


def load_uci_digits() -> tuple[NDArray[np.float64], NDArray[np.uint8]] | None:
    """scikit-learn's copy of the UCI handwritten digits test set: 1,797 8x8
    scans by 13 writers, pixels 0..16 (ink high), and their labels; None
    when scikit-learn (a test dependency) is not installed."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        return None
    data = load_digits()
    return data.images, data.target.astype(np.uint8)


def score_readings(
    read: NDArray[np.integer], labels: NDArray[np.integer]
) -> PipelineEvaluation:
    """Score digits read from pictures against their labels.

    read: (N,) digit read from each picture, -1 where none was read.
    labels: (N,) true digits 0..9. No digit read counts as wrong.
    """
    read = np.asarray(read, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    found = read >= 0
    one_hot = np.eye(10, dtype=np.float32)[read[found]]
    part = evaluation.score(one_hot, labels[found])  # confusion and precision
    hits = np.diag(np.asarray(part.confusion)).astype(np.float64)
    recall = hits / np.maximum(np.bincount(labels, minlength=10), 1)
    whole = replace(
        part,
        accuracy=float(hits.sum() / max(len(labels), 1)),
        per_class_accuracy=tuple(recall.tolist()),
        recall=tuple(recall.tolist()),
        count=int(len(labels)),
    )
    return PipelineEvaluation(whole, unread=int((~found).sum()))


def readings(
    recognizer: Recognizer,
    make: Callable[[int], ImageSource],
    count: int,
    mode: str = "single",
    chunk: int = CHUNK,
) -> Iterator[Reading | DigitError]:
    """Read pictures make(0) .. make(count - 1), `chunk` at a time, in order.

    One batched model call (`Recognizer.recognize_many`) per chunk; a chunk's
    pictures are made only when it is read, so memory stays bounded.
    """
    for start in range(0, count, chunk):
        batch = [make(index) for index in range(start, min(start + chunk, count))]
        yield from recognizer.recognize_many(batch, mode)


def read_digits(
    recognizer: Recognizer,
    pictures: Sequence[ImageSource],
    mode: str = "single",
    chunk: int = CHUNK,
) -> NDArray[np.int64]:
    """The digit read from each picture, -1 where none (or several) was read."""
    read = readings(recognizer, pictures.__getitem__, len(pictures), mode, chunk)
    return np.asarray([_read_label(r) for r in read], dtype=np.int64).reshape(-1)


def evaluate_pictures(
    recognizer: Recognizer,
    pictures: Sequence[ImageSource],
    labels: NDArray[np.integer],
    mode: str = "single",
) -> PipelineEvaluation:
    """Read every picture through the whole pipeline and score it against `labels`."""
    return score_readings(read_digits(recognizer, pictures, mode), labels)


def score_numbers(read: Sequence[str], labels: Sequence[str]) -> NumberEvaluation:
    """Score numbers read from pictures against the numbers written.

    read: the digits read from each picture ("" where none); labels: the digits
    written. Example: read ("12", "7", "45") for ("12", "71", "46") is 1/3
    exact, 3/6 digits right (the "7" in "71" counts wrong), 1 miscounted.
    """
    right = miscounted = 0
    for got, want in zip(read, labels, strict=True):
        if len(got) != len(want):
            miscounted += 1
        else:
            right += sum(a == b for a, b in zip(got, want, strict=True))
    exact = sum(got == want for got, want in zip(read, labels, strict=True))
    digits = sum(len(want) for want in labels)
    return NumberEvaluation(
        count=len(labels),
        exact=exact / max(len(labels), 1),
        digit_accuracy=right / max(digits, 1),
        miscounted=miscounted,
    )


# the outside-MNIST suites


def canvas_item(index: int, seed: int = SEED) -> tuple[NDArray[np.uint8], int]:
    """Canvas suite picture `index`: digit index % 10 drawn on the canvas."""
    digit = index % 10
    return renders.canvas_drawing(digit, _rng(seed, CANVAS_STREAM, index)), digit


def number_item(
    usps: Usps, index: int, seed: int = SEED
) -> tuple[NDArray[np.uint8], str]:
    """Numbers suite picture `index`: NUMBER_LENGTH random USPS digits in a row.

    Returns the picture ((h, w) uint8, dark ink on paper) and the number written.
    """
    rng = _rng(seed, NUMBER_STREAM, index)
    picks = rng.integers(0, len(usps.y), NUMBER_LENGTH)
    picture = renders.number_row([usps.x[i] for i in picks], rng)
    return picture, "".join(str(int(usps.y[i])) for i in picks)


def _rendered(
    recognizer: Recognizer,
    render: Callable[[NDArray[np.float32], np.random.Generator], ImageSource],
    digits: tuple[NDArray[np.floating], NDArray[np.integer]],
    seed: int,
    stream: int,
) -> PipelineEvaluation:
    """`digits` (images (N, h, w) in [0, 1], ink high; labels) rendered, read."""
    images, labels = digits

    def picture(index: int) -> ImageSource:
        return render(images[index], _rng(seed, stream, index))

    read = readings(recognizer, picture, len(labels), mode="auto")
    return score_readings(np.array([_read_label(r) for r in read]), labels)


def evaluate_outside(
    recognizer: Recognizer,
    mnist_x: NDArray[np.uint8],
    mnist_y: NDArray[np.integer],
    usps: Usps,
    count: int = SUITE_SIZE,
    seed: int = SEED,
) -> OutsideEvaluation:
    """Every outside-MNIST suite, `count` pictures each (fewer where data is short).

    mnist_x: (N, 28, 28) uint8 MNIST test images, mnist_y their labels: the
    first `count` are photographed; so are the first `count` USPS digits, which
    are also cut tight.
    """
    canvas = readings(recognizer, lambda i: canvas_item(i, seed)[0], count, "auto")
    canvas_read = np.array([_read_label(r) for r in canvas])
    written: list[str] = []  # filled as the numbers are made, chunk by chunk

    def number(index: int) -> NDArray[np.uint8]:
        picture, label = number_item(usps, index, seed)
        written.append(label)
        return picture

    def tilted(index: int) -> NDArray[np.uint8]:
        picture, _ = number_item(usps, index, seed)
        return renders.tilted(picture, _rng(seed, TILT_STREAM, index))

    numbers_read, tilted_read = (
        [_read_number(r) for r in readings(recognizer, make, count, "auto")]
        for make in (number, tilted)
    )
    mnist = (np.asarray(mnist_x[:count], np.float32) / 255.0, mnist_y[:count])
    usps_digits = (usps.x[:count], usps.y[:count])
    photo, tight = renders.phone_photo, renders.tight_crop
    return OutsideEvaluation(
        seed=seed,
        canvas=score_readings(canvas_read, np.arange(count) % 10),
        mnist_photos=_rendered(recognizer, photo, mnist, seed, MNIST_PHOTO_STREAM),
        usps_photos=_rendered(recognizer, photo, usps_digits, seed, USPS_PHOTO_STREAM),
        usps_tight=_rendered(recognizer, tight, usps_digits, seed, TIGHT_STREAM),
        numbers=score_numbers(numbers_read, written),
        tilted_numbers=score_numbers(tilted_read, written),
        uci_digits=(
            evaluate_pictures(recognizer, list(uci[0][:count]), uci[1][:count], "auto")
            if (uci := load_uci_digits()) is not None
            else None
        ),
    )

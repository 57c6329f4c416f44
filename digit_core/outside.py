"""Checks beyond the model's own 28x28 inputs: whole pictures through the pipeline.

The model's MNIST test figure says how well it reads digits already cut,
centred and scaled the MNIST way. Users give it pictures instead, so these
checks read pictures the way the app does (`Recognizer.recognize_many`, mode
"single") and score what comes out:
- MNIST test images as given: preprocessing must leave MNIST-style input alone;
- USPS (scanned US zip-code digits, 16x16, writers not in MNIST), rendered as
  a small scan of dark ink on light paper, as a user would upload it.
A picture in which no digit is found counts as wrong.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from digit_core import evaluation
from digit_core.errors import DatasetNotFoundError, DigitError
from digit_core.evaluation import Evaluation

if TYPE_CHECKING:
    from digit_core.images import ImageSource
    from digit_core.recognize import Reading, Recognizer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
USPS_PATH = PROJECT_ROOT.parent / "shared" / "data" / "usps.npz"
USPS_SIDE = 16  # USPS digits are 16x16, ink stretched to fill the box
SCALE = 4  # 16x16 -> 64x64, the size of a digit in a small scan
MARGIN = 16  # px of paper around the digit: USPS ink touches its box's edges
PAPER, INK = 255, 0  # uint8 levels of the rendered picture: dark ink, light paper
CHUNK = 512  # pictures per batched model call: bounds memory, keeps batches big


class UspsNotFoundError(DatasetNotFoundError):
    user_message = (
        "The USPS digits (usps.npz) could not be loaded. Put usps.npz in "
        "../shared/data/ beside the project, or give its path."
    )


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


def usps_pictures(
    x: NDArray[np.floating], scale: int = SCALE, margin: int = MARGIN
) -> list[NDArray[np.uint8]]:
    """USPS digits drawn as pictures a user might upload: dark ink on light paper.

    x: (N, 16, 16) float in [0, 1], ink high; not modified. Returns N uint8
    arrays of (16 * scale + 2 * margin) pixels a side, paper 255, ink down to 0.
    The upscaling is bicubic, so strokes get smooth edges as in a scan.
    Example: with the defaults each picture is 96x96, the digit in rows and
    columns 16..79.
    """
    side = USPS_SIDE * scale
    pictures = []
    for digit in np.asarray(x, dtype=np.float32):
        big = cv2.resize(digit, (side, side), interpolation=cv2.INTER_CUBIC)
        ink = np.clip(big, 0.0, 1.0)
        level = np.round(PAPER + (INK - PAPER) * ink).astype(np.uint8)
        pictures.append(
            cv2.copyMakeBorder(
                level, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=PAPER
            )
        )
    return pictures


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


def read_digits(
    recognizer: Recognizer,
    pictures: Sequence[ImageSource],
    mode: str = "single",
    chunk: int = CHUNK,
) -> NDArray[np.int64]:
    """The digit read from each picture, -1 where none (or several) was read.

    Pictures go through `Recognizer.recognize_many` `chunk` at a time: one
    batched model call per chunk, bounded memory.
    """
    read = []
    for start in range(0, len(pictures), chunk):
        batch = pictures[start : start + chunk]
        read += [_read_label(r) for r in recognizer.recognize_many(batch, mode)]
    return np.asarray(read, dtype=np.int64).reshape(-1)


def evaluate_pictures(
    recognizer: Recognizer,
    pictures: Sequence[ImageSource],
    labels: NDArray[np.integer],
    mode: str = "single",
) -> PipelineEvaluation:
    """Read every picture through the whole pipeline and score it against `labels`."""
    return score_readings(read_digits(recognizer, pictures, mode), labels)

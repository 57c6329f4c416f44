"""Read the digits in image files, many at once.

    python scripts/predict.py photo.jpg drawing.png
    python scripts/predict.py --mode single --json scans/*.png > readings.jsonl

One line per file, in the order given: `path: 42 (99.1%, 97.3%)` (the digits,
then each digit's confidence), `path: no digit` or `path: error: ...`. With
--json, one JSON object per line: {"file", "digits", "predictions": [{"digit",
"confidence", "probabilities", "box"}], "error"}; "error" is null when the file
was read, and "digits" is null when it was not; "box" is x, y, w, h in the
file's pixels. A bad file does not stop the others; the exit code is 1 when any
file failed. Files go through the model in batches, one model call per chunk,
so 10,000 small images take seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no TensorFlow start-up chatter
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project root

from digit_core.errors import DigitError
from digit_core.preprocess import MAX_SIDE
from digit_core.recognize import Reading, Recognizer
from digit_core.segment import MODES

CHUNK_FILES = 512  # files per batched model call: bounds memory, keeps batches big
# A picture's steps keep about 8 float32 values per working pixel until its chunk
# is printed: 8 million working pixels (ten 1024x768 photos) hold about 256 MB.
CHUNK_PIXELS = 8_000_000
DECIMALS = 6  # of probabilities and confidences in --json output


@dataclass(frozen=True, slots=True)
class DigitRecord:
    digit: int
    confidence: float  # probability of `digit`, in [0, 1]
    probabilities: tuple[float, ...]  # 10 values, index = digit
    box: tuple[int, int, int, int]  # x, y, w, h in the file's pixels


@dataclass(frozen=True, slots=True)
class FileRecord:
    """What one file gave: one --json line."""

    file: str  # the path as given
    digits: str | None  # "" when no digit was found, None when the file failed
    predictions: tuple[DigitRecord, ...]
    error: str | None  # a sentence for users, then the detail in brackets


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files to read")
    p.add_argument("--model", type=Path, help="model file (default: the bundled one)")
    p.add_argument(
        "--mode",
        choices=MODES,
        default="auto",
        help="single: one digit per file; multi: a number; auto: either (default)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    return p


def describe(err: DigitError) -> str:
    """The user's sentence, then the detail when there is more to say."""
    detail = str(err)
    return (
        err.user_message
        if detail == err.user_message
        else f"{err.user_message} ({detail})"
    )


def record(file: str, result: Reading | DigitError) -> FileRecord:
    if isinstance(result, DigitError):
        return FileRecord(file, None, (), describe(result))
    predictions = tuple(
        DigitRecord(
            digit=p.digit,
            confidence=round(p.confidence, DECIMALS),
            probabilities=tuple(round(v, DECIMALS) for v in p.probabilities),
            box=p.box,
        )
        for p in result.predictions
    )
    return FileRecord(file, result.digits, predictions, None)


def text_line(rec: FileRecord) -> str:
    if rec.error is not None:
        return f"{rec.file}: error: {rec.error}"
    if not rec.predictions:
        return f"{rec.file}: no digit"
    confidences = ", ".join(f"{p.confidence:.1%}" for p in rec.predictions)
    return f"{rec.file}: {rec.digits} ({confidences})"


def working_pixels(path: str) -> int:
    """Pixels the pipeline will work on for this file, from its header alone.

    0 when the header cannot be read: recognize_many then reports the error.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pixel bombs are reported later
            with Image.open(path) as image:
                width, height = image.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return 0
    scale = min(1.0, MAX_SIDE / max(width, height, 1))
    return round(width * scale) * round(height * scale)


def chunks(paths: Sequence[str]) -> Iterator[list[str]]:
    """Consecutive runs of at most CHUNK_FILES files and CHUNK_PIXELS pixels."""
    batch: list[str] = []
    pixels = 0
    for path in paths:
        size = working_pixels(path)
        if batch and (len(batch) >= CHUNK_FILES or pixels + size > CHUNK_PIXELS):
            yield batch
            batch, pixels = [], 0
        batch.append(path)
        pixels += size
    if batch:
        yield batch


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        recognizer = Recognizer.load(args.model)
    except DigitError as err:
        print(f"error: {describe(err)}", file=sys.stderr)
        return 1
    failed = False
    for batch in chunks(args.images):
        results = recognizer.recognize_many(batch, args.mode)
        for file, result in zip(batch, results, strict=True):
            rec = record(file, result)
            failed |= rec.error is not None
            print(json.dumps(asdict(rec)) if args.json else text_line(rec))
        sys.stdout.flush()  # each chunk shows as soon as it is read
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Score a model on the MNIST test set, and on pictures read through the pipeline.

    python scripts/evaluate.py
    python scripts/evaluate.py --model runs/standard.keras --pipeline --usps --json
    python scripts/evaluate.py --outside --limit 200    # quick: ~30 s of CPU

Prints accuracy, per-class accuracy and the confusion matrix of the model on the
10,000 raw 28x28 MNIST test images. --pipeline also reads every test image as a
picture through the Recognizer (preprocessing included, mode single): an MNIST
digit must come through nearly unchanged, so the figure should match. --usps
also reads the USPS test split (other writers, scanned US mail), drawn as dark
ink on light paper, the same way. --outside also runs the outside-MNIST
suites (digit_core/outside.py), 2,000 pictures each, in the app's default mode
auto: canvas strokes, phone photos of MNIST test and USPS digits (JPEG), USPS
digits cut to their ink's box (no paper around), 4-digit numbers of USPS
digits in a row, read whole, and scikit-learn's UCI digits (8x8 scans by 13
other writers, where scikit-learn is installed). A picture in which no
digit is found counts as wrong. MNIST comes from --data-path,
$DIGITS_MNIST_PATH, data/mnist.npz or the Keras download, in that order.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no TensorFlow start-up chatter
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project root

from digit_core import evaluation, outside, renders
from digit_core.data import load_mnist
from digit_core.errors import DigitError
from digit_core.evaluation import Evaluation
from digit_core.outside import (
    NumberEvaluation,
    OutsideEvaluation,
    PipelineEvaluation,
)
from digit_core.recognize import Recognizer


@dataclass(frozen=True, slots=True)
class Report:
    """Everything evaluate.py measured: its --json output."""

    model: str  # the model file
    data: str  # where MNIST was loaded from
    data_sha256: str
    test: Evaluation  # the model on raw 28x28 MNIST test images
    pipeline: PipelineEvaluation | None  # the same images through the Recognizer
    usps: PipelineEvaluation | None  # USPS pictures through the Recognizer
    usps_source: str | None
    outside: OutsideEvaluation | None  # the outside-MNIST suites, mode auto


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, help="model file (default: the bundled one)")
    p.add_argument(
        "--data-path",
        help="MNIST .npz (default: $DIGITS_MNIST_PATH, data/mnist.npz, download)",
    )
    p.add_argument(
        "--pipeline",
        action="store_true",
        help="also read the test images through the whole pipeline, mode single",
    )
    p.add_argument(
        "--usps",
        action="store_true",
        help="also read the USPS test split, drawn as pictures, through the pipeline",
    )
    p.add_argument(
        "--usps-path",
        type=Path,
        default=outside.USPS_PATH,
        help="USPS .npz (default: ../shared/data/usps.npz beside the project)",
    )
    p.add_argument(
        "--outside",
        action="store_true",
        help="also run the outside-MNIST suites: canvas strokes, phone photos, "
        "numbers in a row, level and tilted (needs USPS)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=outside.SEED,
        help="seed of the outside-MNIST suites' pictures",
    )
    p.add_argument(
        "--limit",
        type=int,
        help="score only the first N images of each set, N pictures of each "
        "outside suite (quick checks)",
    )
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    return p


def per_class_line(accuracies: tuple[float, ...]) -> str:
    return "  per class  " + "  ".join(
        f"{digit}: {a:.2%}" for digit, a in enumerate(accuracies)
    )


def confusion_lines(confusion: tuple[tuple[int, ...], ...]) -> list[str]:
    header = "  true\\read" + "".join(f"{digit:>6}" for digit in range(10))
    rows = [
        f"  {digit:>9}" + "".join(f"{count:>6}" for count in row)
        for digit, row in enumerate(confusion)
    ]
    return [header, *rows]


def pipeline_lines(
    title: str,
    result: PipelineEvaluation,
    baseline: float | None = None,
    mode: str = "single",
) -> list[str]:
    """Accuracy through the pipeline; `baseline`: the model's own, to compare."""
    scores = result.evaluation
    change = (
        f" ({(scores.accuracy - baseline) * 100:+.2f} points)"
        if baseline is not None
        else ""
    )
    missed = "no digit found" if mode == "single" else "no single digit found"
    return [
        f"{title}, {scores.count:,} pictures through the pipeline, mode {mode}: "
        f"accuracy {scores.accuracy:.2%}{change}; {missed} in {result.unread}",
        per_class_line(scores.per_class_accuracy),
    ]


def number_line(numbers: NumberEvaluation, title: str = "numbers in a row") -> str:
    return (
        f"{title}, {numbers.count:,} {outside.NUMBER_LENGTH}-digit numbers "
        f"of USPS digits, mode auto: read exactly {numbers.exact:.2%}; digits "
        f"right {numbers.digit_accuracy:.2%}; split into the wrong number of "
        f"digits {numbers.miscounted}"
    )


def outside_lines(suites: OutsideEvaluation) -> list[str]:
    return [
        f"Outside MNIST (seed {suites.seed}), read as a user's pictures:",
        *pipeline_lines("canvas strokes", suites.canvas, mode="auto"),
        "  (optimistic: the same stroke templates feed a few % of training batches)",
        *pipeline_lines("phone photos of MNIST test", suites.mnist_photos, mode="auto"),
        *pipeline_lines("phone photos of USPS", suites.usps_photos, mode="auto"),
        *pipeline_lines("tight crops of USPS", suites.usps_tight, mode="auto"),
        number_line(suites.numbers),
        number_line(suites.tilted_numbers, "the same, photographed turned up to 15°"),
        *(
            pipeline_lines("UCI digits (scikit-learn's 8x8 scans)", uci, mode="auto")
            if (uci := suites.uci_digits) is not None
            else ["UCI digits: not read (pip install scikit-learn to read them)"]
        ),
    ]


def text_report(report: Report) -> str:
    test = report.test
    lines = [
        f"model  {report.model}",
        f"data   {report.data} (sha256 {report.data_sha256[:12] or 'unknown'})",
        f"MNIST test, model on {test.count:,} raw 28x28 images: "
        f"accuracy {test.accuracy:.2%}",
        per_class_line(test.per_class_accuracy),
        "  confusion matrix (rows: true digit, columns: read as)",
        *confusion_lines(test.confusion),
    ]
    if report.pipeline is not None:
        lines += pipeline_lines("MNIST test", report.pipeline, test.accuracy)
    if report.usps is not None:
        lines += pipeline_lines("USPS", report.usps)
    if report.outside is not None:
        lines += outside_lines(report.outside)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    limit = slice(None, args.limit)
    try:
        mnist = load_mnist(args.data_path)
        wants_usps = args.usps or args.outside
        usps = outside.load_usps(args.usps_path) if wants_usps else None
        recognizer = Recognizer.load(args.model)
    except DigitError as err:
        print(f"error: {err.user_message}\n({err})", file=sys.stderr)
        return 1
    x, y = mnist.x_test[limit], mnist.y_test[limit]
    test = evaluation.evaluate(recognizer.model, x.astype(np.float32) / 255.0, y)
    pipeline = (
        outside.evaluate_pictures(recognizer, list(x), y) if args.pipeline else None
    )
    usps_scores = (
        outside.evaluate_pictures(
            recognizer, [renders.scan(d) for d in usps.x[limit]], usps.y[limit]
        )
        if args.usps and usps is not None
        else None
    )
    suites = (
        outside.evaluate_outside(
            recognizer,
            mnist.x_test,
            mnist.y_test,
            usps,
            count=args.limit or outside.SUITE_SIZE,
            seed=args.seed,
        )
        if args.outside and usps is not None
        else None
    )
    report = Report(
        model=str(recognizer.model_path),
        data=mnist.source,
        data_sha256=mnist.sha256,
        test=test,
        pipeline=pipeline,
        usps=usps_scores,
        usps_source=usps.source if usps is not None else None,
        outside=suites,
    )
    print(json.dumps(asdict(report), indent=1) if args.json else text_report(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

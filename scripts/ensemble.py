"""Combine trained models into one that averages them, judged on validation only.

    python scripts/ensemble.py models/digits.keras runs/member1.keras \\
        --validation-split 0.0833333 --split-seed 0 --out runs/ensemble.keras

Every member must have been trained with the same validation split (same
--validation-split and --split-seed): those images were seen by none of them,
so the members and their mean are compared on them fairly. The MNIST test set
is scored once, for the model card, after the comparison; it never chooses.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project root

from digit_core import evaluation  # noqa: E402
from digit_core import model as model_lib  # noqa: E402
from digit_core.data import load_mnist  # noqa: E402
from digit_core.errors import DigitError  # noqa: E402
from digit_core.train import TrainConfig, split  # noqa: E402


def validation_scores(net, x_val, y_val) -> dict[str, float]:
    """Accuracy and mean cross-entropy on the shared validation images."""
    probabilities = model_lib.predict(net, x_val)
    picked = probabilities[np.arange(len(y_val)), y_val.astype(np.int64)]
    return {
        "accuracy": float((probabilities.argmax(1) == y_val).mean()),
        "loss": float(-np.log(np.clip(picked, 1e-7, 1.0)).mean()),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("members", nargs="+", type=Path, help=".keras models to average")
    p.add_argument("--validation-split", type=float, default=0.0833333)
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--data-path", help="MNIST .npz (default: see data.load_mnist)")
    p.add_argument("--out", type=Path, required=True, help="the ensemble's .keras")
    args = p.parse_args(argv)
    try:
        mnist = load_mnist(args.data_path)
        members = [model_lib.load(path) for path in args.members]
    except DigitError as err:
        print(f"error: {err.user_message}\n({err})", file=sys.stderr)
        return 1
    cfg = TrainConfig(
        validation_split=args.validation_split, split_seed=args.split_seed
    )
    _, _, x_val, y_val = split(mnist, cfg)
    report = {
        str(path): validation_scores(net, x_val, y_val)
        for path, net in zip(args.members, members, strict=True)
    }
    cards = [model_lib.load_card(path) for path in args.members]
    net = model_lib.ensemble(members)
    report["ensemble"] = validation_scores(net, x_val, y_val)
    print(json.dumps({"validation": report}, indent=1))

    test = evaluation.evaluate(
        net, mnist.x_test.astype(np.float32) / 255.0, mnist.y_test
    )
    first = cards[0]
    card = model_lib.ModelCard(
        name=args.out.stem,
        preset=first.preset if first else "ensemble",
        params=int(net.count_params()),
        architecture=model_lib.layer_table(net),
        training={
            "ensemble_of": [str(path) for path in args.members],
            "members": [c.training if c else None for c in cards],
            "validation": report,
            "validation_split": args.validation_split,
            "split_seed": args.split_seed,
            "history_of": "member_1",
        },
        dataset={"source": mnist.source, "sha256": mnist.sha256},
        test_accuracy=test.accuracy,
        per_class_accuracy=test.per_class_accuracy,
        confusion_matrix=test.confusion,
        history=first.history if first else (),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        extra={"member_test_accuracy": [c.test_accuracy if c else None for c in cards]},
    )
    card = model_lib.save(net, args.out, card)
    print(
        f"ensemble: validation {report['ensemble']['accuracy']:.4%}, "
        f"MNIST test {test.accuracy:.2%}, {card.file_size / 1e6:.1f} MB -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Train the verifier (is a piece of ink one whole digit?) and save it with its card.

    python scripts/train_verifier.py                    # models/verifier.keras
    python scripts/train_verifier.py --examples 20000 --epochs 1 --out runs/v.keras

Examples are made from MNIST's training digits (see digit_core/verifier.py);
the last 6,000 are held out to measure it. The model and its card are written
atomically.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project root

from digit_core import model as model_lib  # noqa: E402
from digit_core import verifier  # noqa: E402
from digit_core.data import load_mnist  # noqa: E402
from digit_core.errors import DigitError  # noqa: E402

HELP = {
    "examples": "training examples to make (a tenth more are held out)",
    "epochs": "passes over them",
    "batch_size": "examples per gradient step",
    "learning_rate": "peak Adam learning rate (cosine decay to 0)",
    "seed": "random seed for examples and weights",
    "distorted": "share of digits distorted first (affine, elastic, pen width, blur)",
}


def parser() -> argparse.ArgumentParser:
    """Options generated from VerifierConfig, so the two never drift apart."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = verifier.VerifierConfig()
    for f in dataclasses.fields(verifier.VerifierConfig):
        default = getattr(defaults, f.name)
        p.add_argument(
            "--" + f.name.replace("_", "-"),
            type=type(default),
            default=default,
            help=f"{HELP[f.name]} (default: {default})",
        )
    p.add_argument(
        "--data-path",
        type=Path,
        help="MNIST .npz (default: $DIGITS_MNIST_PATH, data/mnist.npz, download)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=verifier.BUNDLED_VERIFIER,
        help="where to write the .keras file (its card goes beside it)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    config = verifier.VerifierConfig(
        **{
            f.name: getattr(args, f.name)
            for f in dataclasses.fields(verifier.VerifierConfig)
        }
    )
    try:
        mnist = load_mnist(args.data_path)
        net, card = verifier.train(mnist, config)
    except DigitError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing written", file=sys.stderr)
        return 130
    saved = model_lib.save(net, args.out, card)
    assert saved is not None
    kinds = ", ".join(f"{k} {v:.2%}" for k, v in saved.per_kind_accuracy.items())
    print(f"validation accuracy {saved.validation_accuracy:.2%} ({kinds})")
    print(f"wrote {args.out} ({saved.file_size / 1e3:.0f} kB) and its card")
    return 0


if __name__ == "__main__":
    sys.exit(main())

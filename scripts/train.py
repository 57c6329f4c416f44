"""Train a digit CNN on MNIST and save it with its model card.

    python scripts/train.py --preset fast --epochs 3
    python scripts/train.py --preset standard --epochs 30 --augment \
        --checkpoint-dir runs/standard-ckpt --out runs/standard.keras
    python scripts/train.py --my-digits ~/.local/share/digit-studio/my_digits.sqlite

Every TrainConfig field is an option (see --help). The model and its card are
written atomically: Ctrl-C never leaves a half-written model. With
--checkpoint-dir, a killed run resumes from its last finished epoch.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project root

from digit_core import model as model_lib  # noqa: E402
from digit_core import samples  # noqa: E402
from digit_core.errors import DigitError  # noqa: E402
from digit_core.train import EpochMetrics, Listener, Progress, TrainConfig, train  # noqa: E402

DEFAULT_OUT = Path("runs") / "model.keras"
HELP = {
    "preset": f"architecture, one of {', '.join(model_lib.PRESETS)}",
    "epochs": "passes over the training set",
    "batch_size": "images per gradient step",
    "learning_rate": "peak Adam learning rate (warm-up, then cosine decay)",
    "warmup_epochs": "epochs of linear learning-rate warm-up",
    "validation_split": "fraction of the training set held out to pick the best epoch",
    "augment": "distort training images (affine, elastic, pen width, styles)",
    "train_size": "use only this many training images (quick demos)",
    "seed": "random seed for shuffling, augmentation and weights",
    "split_seed": "random seed for the validation split (keep it for ensembles)",
    "init_model": "start from this .keras model's weights (same preset)",
    "data_path": "MNIST .npz (default: $DIGITS_MNIST_PATH, data/mnist.npz, download)",
    "my_digits": f"also train on this 'my digits' file (app: {samples.store_path()})",
    "my_digits_weight": "times each of my digits is trained on an epoch (0: test only)",
}


def parser() -> argparse.ArgumentParser:
    """Options generated from TrainConfig, so the two never drift apart."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        if f.name not in HELP:
            continue
        flag = "--" + f.name.replace("_", "-")
        default = getattr(defaults, f.name)
        if isinstance(default, bool):
            p.add_argument(
                flag,
                action=argparse.BooleanOptionalAction,
                default=default,
                help=HELP[f.name],
            )
        else:
            kind = (
                type(default)
                if default is not None
                else (
                    str if f.name in ("data_path", "init_model", "my_digits") else int
                )
            )
            p.add_argument(
                flag,
                type=kind,
                default=default,
                help=f"{HELP[f.name]} (default: {default})",
            )
    p.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"model file to write (default: {DEFAULT_OUT})",
    )
    p.add_argument(
        "--checkpoint-dir",
        type=Path,
        help="folder for per-epoch checkpoints; resumes from it",
    )
    p.add_argument(
        "--json", action="store_true", help="print the model card as JSON at the end"
    )
    return p


class ProgressBar(Listener):
    """A one-line text progress bar on stderr, one summary line per epoch."""

    def on_progress(self, progress: Progress) -> None:
        width = 30
        filled = round(width * progress.batch / progress.batches)
        left = progress.seconds_left
        eta = f"{left:5.0f}s left" if left is not None else ""
        bar = "#" * filled + "." * (width - filled)
        sys.stderr.write(
            f"\repoch {progress.epoch}/{progress.epochs} [{bar}]"
            f" loss {progress.loss:.4f} acc {progress.accuracy:.4f} {eta}"
        )
        sys.stderr.flush()

    def on_epoch(self, metrics: EpochMetrics) -> None:
        sys.stderr.write(
            f"\repoch {metrics.epoch}: loss {metrics.loss:.4f}"
            f" acc {metrics.accuracy:.4f}"
            f" val_loss {metrics.val_loss:.4f} val_acc {metrics.val_accuracy:.4f}"
            f" lr {metrics.learning_rate:.2e} {metrics.seconds:.0f}s\n"
        )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in HELP})
    stop = threading.Event()
    try:
        result = train(
            cfg,
            listener=ProgressBar(),
            stop=stop,
            checkpoint_dir=args.checkpoint_dir,
            name=args.out.stem,
        )
    except KeyboardInterrupt:
        print("\ninterrupted: nothing written", file=sys.stderr)
        return 130
    except DigitError as err:
        print(f"error: {err.user_message}\n({err})", file=sys.stderr)
        return 1
    card = model_lib.save(result.model, args.out, result.card)
    assert card is not None
    if args.json:
        print(card.to_json())
    else:
        print(
            f"test accuracy {card.test_accuracy:.4%};"
            f" wrote {args.out} ({card.file_size / 1e6:.2f} MB)"
        )
        mine = card.extra.get("my_digits")
        if mine and mine["accuracy"] is not None:
            held_out = mine["held_out"]
            print(f"my digits accuracy {mine['accuracy']:.2%} ({held_out} held out)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

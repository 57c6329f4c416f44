"""The verifier: is a piece of ink one whole digit?

The digit network reads whatever it is shown as some digit, and surely: a 4
with a 1 touching it reads as 4 at 99.99%, half of a 0 as a 1. Segmentation
must also know whether a piece is one digit, two touching ones, or a part of
one. A small CNN learns that from MNIST's training digits, each scaled
0.6-1.6x as digits in a written row are:

- one digit: yes;
- two digits side by side, overlapping by up to 4 px or up to 3 px apart: no;
- the parts that segmentation's own cuts (drop-fall paths) make of one digit,
  and plain vertical slices of one: no;
- the parts those cuts make of two touching digits: yes for a part that holds
  one digit's ink and little of the other's, no for a mixture.

It sees what the digit network sees (preprocess.digit_input, which keeps the
aspect ratio), so one graph runs both (`judging`). Its file is bundled beside
the digit model and serves any digit model: it judges shapes, not classes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from digit_core import augment, preprocess, segment
from digit_core import model as model_lib
from digit_core.data import Mnist
from digit_core.errors import EmptyImageError

BUNDLED_VERIFIER = model_lib.PROJECT_ROOT / "models" / "verifier.keras"
KINDS = ("one digit", "part of one", "two digits", "one of two", "mix of two")
ONE, PART, TWO, ONE_OF_TWO, MIX = range(len(KINDS))
WHOLE = {ONE: 1, PART: 0, TWO: 0, ONE_OF_TWO: 1, MIX: 0}
SCALES = (0.6, 1.6)  # digit sizes in a row, as the segmentation tests compose them
OVERLAPS = (-4, 4)  # px between two digits' boxes, [low, high): negative overlaps
SHARES = (0.6, 0.9, 0.25)  # draw: one digit (+ its parts), two digits, else a slice
CLEAN = 0.9  # a part of two is one of them: this much of its ink, ...
STRAY = 0.1  # ...and at most this much of the other's (relative to its own)
MIXED = (0.7, 0.3)  # a mix: under 70% of its digit, or over 30% of the other's
MISSING = 0.85  # a part of one digit lacks at least 15% of its ink
VALIDATION = 6_000  # MNIST training digits held out (the last ones)
DISTORTED = 0.8  # share of digits distorted first, as the digit model's training does


@dataclass(frozen=True, slots=True)
class VerifierConfig:
    """How the bundled verifier is trained."""

    examples: int = 250_000
    epochs: int = 8
    batch_size: int = 256
    learning_rate: float = 2e-3  # peak, then cosine decay to 0
    seed: int = 0
    distorted: float = DISTORTED  # share of digits distorted first


@dataclass(frozen=True, slots=True)
class VerifierCard:
    """What the verifier is and how well it tells, saved beside it as JSON."""

    name: str
    params: int
    architecture: tuple[model_lib.LayerInfo, ...]
    training: dict[str, Any]  # the VerifierConfig, as a dict
    dataset: dict[str, str]  # source and sha256 of the MNIST file
    validation_accuracy: float  # on examples from held-out training digits
    per_kind_accuracy: dict[str, float]  # by KINDS
    history: tuple[dict[str, float], ...]
    created: str
    file_size: int = 0
    keras_version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> VerifierCard:
        raw = json.loads(text)
        raw["architecture"] = model_lib.layers_from_json(raw["architecture"])
        raw["history"] = tuple(raw["history"])
        return cls(**raw)


def build() -> Any:
    """Three small Conv-BN blocks, two of them strided, and a dense layer;
    115k parameters, (N, 1) out.

    Built like the bundled digit model (convolutions without bias, strided
    instead of max-pooling) because OpenCV's DNN importer reads that and not
    every other graph, and the verifier runs in one graph with the digit
    model (`judging`): about a tenth more time per call.
    """
    import keras

    layers = keras.layers

    def conv_bn(filters: int, strides: int = 1) -> list[Any]:
        padding = "same" if strides > 1 else "valid"
        return [
            layers.Conv2D(filters, 3, strides, padding, use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
        ]

    return keras.Sequential(
        [
            keras.Input(model_lib.INPUT_SHAPE),
            *conv_bn(16),  # 26x26
            *conv_bn(32, strides=2),  # 13x13
            *conv_bn(32, strides=2),  # 7x7
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="verifier",
    )


def judging(digits: Any, verifier: Any) -> Any:
    """One model giving (N, 11): the digit model's 10 probabilities, then the
    verifier's chance that the input is one whole digit."""
    import keras

    inputs = keras.Input(model_lib.INPUT_SHAPE, name="ink")
    both = keras.layers.Concatenate(name="judgement")(
        [digits(inputs), verifier(inputs)]
    )
    return keras.Model(inputs, both, name="judge")


def load(path: str | Path | None = None) -> Any:
    """The bundled verifier, or the one at `path`; ModelLoadError if unusable."""
    return model_lib.load(BUNDLED_VERIFIER if path is None else path, outputs=1)


def load_card(path: str | Path | None = None) -> VerifierCard | None:
    """The card beside a verifier file (the bundled one by default), or None."""
    model_path = Path(path) if path is not None else BUNDLED_VERIFIER
    try:
        return VerifierCard.from_json(model_lib.card_path(model_path).read_text())
    except (OSError, ValueError, TypeError, KeyError):
        return None


# examples


def _scaled(
    image: NDArray[np.uint8], rng: np.random.Generator, distorted: float
) -> NDArray[np.float32]:
    """An MNIST digit's ink, most often distorted as the digit model's training
    distorts it (other writers, pens, photos), cropped, at a random size of a
    row's."""
    ink = image.astype(np.float32) / 255
    if rng.random() < distorted:
        ink = augment.augment_one(ink, augment.AugmentConfig(), rng)
    x, y, w, h = cv2.boundingRect((ink > augment.INK_FLOOR).astype(np.uint8))
    ink = ink[y : y + h, x : x + w]
    scale = rng.uniform(*SCALES)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return np.clip(cv2.resize(ink, size, interpolation=interpolation), 0, 1)


def _side_by_side(
    a: NDArray[np.float32], b: NDArray[np.float32], rng: np.random.Generator
) -> NDArray[np.float32]:
    """(2, h, w): a and b on one line, centred on each other (give or take 2 px),
    each in its own layer so that every pixel's owner is known."""
    gap = int(rng.integers(*OVERLAPS))
    height = max(a.shape[0], b.shape[0])
    width = max(a.shape[1] + gap + b.shape[1], a.shape[1], b.shape[1])
    layers = np.zeros((2, height + 6, width + 2), np.float32)
    for layer, (digit, x) in enumerate(((a, 1), (b, max(1, 1 + a.shape[1] + gap)))):
        h, w = digit.shape
        wobble = int(rng.integers(-2, 3)) if height > h + 4 else 0
        y = 3 + (height - h) // 2 + wobble
        layers[layer, y : y + h, x : x + w] = digit
    return layers


def _cuts(
    ink: NDArray[np.float32], rng: np.random.Generator
) -> list[list[segment.Segment]]:
    """The two-part cuts segmentation tries on this ink, narrowly or widely."""
    found = segment.trimmed(0, 0, ink)
    return [] if found is None else segment.halves(found, widely=rng.random() < 0.5)


def _owner(part: segment.Segment, layers: NDArray[np.float32], mine: int) -> int | None:
    """ONE_OF_TWO when `part` is digit `mine` alone, MIX when it is a mixture,
    None in between (left out: no clear answer)."""
    x, y, w, h = part.box
    inked = part.ink > segment.INK
    own = (layers[:, y : y + h, x : x + w] * inked).sum(axis=(1, 2))
    total = float(layers[mine].sum())
    kept, stray = float(own[mine]), float(own[1 - mine])
    if kept >= CLEAN * total and stray <= STRAY * kept:
        return ONE_OF_TWO
    if kept < MIXED[0] * total or stray > MIXED[1] * kept:
        return MIX
    return None


def _pieces(
    images: NDArray[np.uint8], rng: np.random.Generator, distorted: float
) -> list[tuple[NDArray[np.float32], int]]:
    """One draw of examples: pieces of ink, each with its kind."""
    pick = rng.random()
    first = _scaled(images[rng.integers(len(images))], rng, distorted)
    if pick < SHARES[0]:
        found = [(first, ONE)]
        if cuts := _cuts(np.pad(first, 1), rng):
            part = cuts[rng.integers(len(cuts))][rng.integers(2)]
            if part.ink.sum() < MISSING * first.sum():  # not a sliver shaved off
                found.append((part.ink, PART))
        return found
    if pick < SHARES[1]:
        second = _scaled(images[rng.integers(len(images))], rng, distorted)
        layers = _side_by_side(first, second, rng)
        both = layers.max(axis=0)
        found = [(both, TWO)]
        if cuts := _cuts(both, rng):
            cut = cuts[rng.integers(len(cuts))]
            for mine, part in enumerate(cut):
                if (kind := _owner(part, layers, mine)) is not None:
                    found.append((part.ink, kind))
        return found
    width = first.shape[1]
    column = int(rng.uniform(SHARES[2], 1 - SHARES[2]) * width)
    side = first[:, :column] if rng.random() < 0.5 else first[:, column:]
    return [(side, PART)] if width >= 4 else []


def examples(
    images: NDArray[np.uint8],
    count: int,
    rng: np.random.Generator,
    distorted: float = DISTORTED,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int8]]:
    """`count` verifier inputs (N, 28, 28) made from MNIST `images`, with
    labels (1: one whole digit) and kinds (indices into KINDS); `distorted`:
    the share of digits distorted first."""
    inputs, kinds = [], []
    while len(inputs) < count:
        for ink, kind in _pieces(images, rng, distorted):
            if (ink > segment.INK).sum() < 3:
                continue
            try:
                inputs.append(preprocess.digit_input(np.ascontiguousarray(ink))[0])
            except EmptyImageError:
                continue
            kinds.append(kind)
    kind_array = np.asarray(kinds[:count], np.int8)
    labels = np.asarray([WHOLE[k] for k in kind_array.tolist()], np.float32)
    return np.asarray(inputs[:count], np.float32), labels, kind_array


# training


def train(
    mnist: Mnist,
    config: VerifierConfig = VerifierConfig(),
    report: Callable[[str], None] = print,
) -> tuple[Any, VerifierCard]:
    """Train a verifier on MNIST's training digits; the last VALIDATION are
    held out to measure it. MNIST's test set is not touched."""
    import keras

    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    started = time.perf_counter()
    train_digits, held_digits = mnist.x_train[:-VALIDATION], mnist.x_train[-VALIDATION:]
    x, y, _ = examples(train_digits, config.examples, rng, config.distorted)
    held = examples(held_digits, max(1, config.examples // 10), rng, config.distorted)
    report(f"{len(x):,} examples made in {time.perf_counter() - started:.0f} s")
    net = build()
    steps = config.epochs * -(-len(x) // config.batch_size)
    net.compile(  # cosine decay: the last epoch is kept, so it must be a calm one
        keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(config.learning_rate, steps)
        ),
        "binary_crossentropy",
        metrics=["accuracy"],
    )
    fit = net.fit(
        x[..., None],
        y,
        batch_size=config.batch_size,
        epochs=config.epochs,
        validation_data=(held[0][..., None], held[1]),
        verbose=2,
    )
    said = model_lib.predict(net, held[0])[:, 0] >= 0.5
    right = said == (held[1] >= 0.5)
    per_kind = {
        name: round(float(right[held[2] == kind].mean()), 4)
        for kind, name in enumerate(KINDS)
        if (held[2] == kind).any()
    }
    history = tuple(
        {key: round(float(values[epoch]), 5) for key, values in fit.history.items()}
        for epoch in range(config.epochs)
    )
    card = VerifierCard(
        name="verifier",
        params=int(net.count_params()),
        architecture=model_lib.layer_table(net),
        training=asdict(config),
        dataset={"source": mnist.source, "sha256": mnist.sha256},
        validation_accuracy=round(float(right.mean()), 4),
        per_kind_accuracy=per_kind,
        history=history,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return net, card

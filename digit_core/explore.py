"""MNIST by class: how many of each digit, what they look like, which are hardest.

Pure functions of the arrays (and, for the hardest examples, of a predict
function), so the app can cache each result by its arguments. Images are
MNIST's uint8 (N, 28, 28), 0 = paper, 255 = ink; labels uint8 (N,).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digit_core.data import Mnist
from digit_core.mosaic import mosaic

BATCH = 512  # images per model call: short calls let other sessions read between
SURE = 1e-7  # probabilities are clipped here before the log: a loss of at most 16

SPLITS = ("train", "test")  # MNIST's own: 60,000 and 10,000 examples

Predict = Callable[[NDArray[np.float32]], NDArray[np.float32]]  # (N,28,28) -> (N,10)


@dataclass(frozen=True, slots=True)
class Hard:
    """One example the model finds hard: a high loss on its true label."""

    index: int  # into the images given
    label: int  # the true digit
    read: int  # the model's most likely digit
    confidence: float  # probability of `read`, in [0, 1]
    loss: float  # cross-entropy, -ln P(label)


def split(mnist: Mnist, name: str) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """(images, labels) of MNIST's "train" or "test" split."""
    if name not in SPLITS:
        msg = f"split must be one of {', '.join(SPLITS)}, not {name!r}"
        raise ValueError(msg)
    if name == "train":
        return mnist.x_train, mnist.y_train
    return mnist.x_test, mnist.y_test


def class_counts(labels: NDArray[np.uint8]) -> tuple[int, ...]:
    """How many examples of each digit: 10 counts, index = digit."""
    return tuple(int(n) for n in np.bincount(labels, minlength=10)[:10])


def _of_class(labels: NDArray[np.uint8], digit: int) -> NDArray[np.intp]:
    if not 0 <= digit <= 9:
        msg = f"digit must be 0-9, not {digit}"
        raise ValueError(msg)
    return np.flatnonzero(labels == digit)


def class_mean(
    images: NDArray[np.uint8], labels: NDArray[np.uint8], digit: int
) -> NDArray[np.float32]:
    """The average example of `digit`: (28, 28) float32 in [0, 1].

    Where every writer puts ink it is white; the blur shows how much they vary.
    """
    chosen = _of_class(labels, digit)
    if chosen.size == 0:
        return np.zeros(images.shape[1:], np.float32)
    return (images[chosen].mean(axis=0, dtype=np.float64) / 255).astype(np.float32)


def random_grid(
    images: NDArray[np.uint8],
    labels: NDArray[np.uint8],
    digit: int,
    count: int = 36,
    seed: int = 0,
) -> NDArray[np.uint8]:
    """`count` random examples of `digit` (fewer if the class is smaller), tiled.

    The same seed gives the same grid. Returns a mosaic, uint8, ink high;
    (28, 28) of grey when there is no example.
    """
    chosen = _of_class(labels, digit)
    if chosen.size == 0:
        return mosaic(np.zeros((1, *images.shape[1:]), np.uint8))
    picked = np.random.default_rng(seed).choice(chosen, min(count, chosen.size), False)
    return mosaic(images[np.sort(picked)])


def hardest(
    predict: Predict,
    images: NDArray[np.uint8],
    labels: NDArray[np.uint8],
    digit: int,
    count: int = 12,
) -> tuple[Hard, ...]:
    """The examples of `digit` with the highest loss under `predict`, worst first.

    predict: (n, 28, 28) float32 in [0, 1] -> (n, 10) probabilities, e.g.
    Recognizer.predict; called in batches of BATCH. Misread examples come
    first, then the ones read right but with doubt.
    """
    chosen = _of_class(labels, digit)
    probabilities = np.concatenate(
        [
            predict(images[chosen[start : start + BATCH]].astype(np.float32) / 255)
            for start in range(0, chosen.size, BATCH)
        ]
        or [np.zeros((0, 10), np.float32)]
    )
    losses = -np.log(np.clip(probabilities[:, digit], SURE, 1.0))
    worst = np.argsort(-losses, kind="stable")[:count]
    return tuple(
        Hard(
            index=int(chosen[i]),
            label=digit,
            read=int(probabilities[i].argmax()),
            confidence=float(probabilities[i].max()),
            loss=float(losses[i]),
        )
        for i in worst
    )

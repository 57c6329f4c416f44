"""How well a model reads a labelled set: the figures and the images behind them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digit_core import model as model_lib


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Accuracy of `probabilities` against `labels`.

    confusion[t][p] counts images of true digit t read as p.
    """

    accuracy: float
    per_class_accuracy: tuple[float, ...]
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    confusion: tuple[tuple[int, ...], ...]
    count: int


def score(
    probabilities: NDArray[np.float32], labels: NDArray[np.integer]
) -> Evaluation:
    """Figures from (N, 10) probabilities and (N,) true labels."""
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (labels.astype(np.int64), predicted), 1)
    diagonal = np.diag(confusion).astype(np.float64)
    recall = diagonal / np.maximum(confusion.sum(axis=1), 1)
    precision = diagonal / np.maximum(confusion.sum(axis=0), 1)
    return Evaluation(
        accuracy=float(diagonal.sum() / max(len(labels), 1)),
        per_class_accuracy=tuple(recall.tolist()),
        precision=tuple(precision.tolist()),
        recall=tuple(recall.tolist()),
        confusion=tuple(tuple(row) for row in confusion.tolist()),
        count=int(len(labels)),
    )


def evaluate(
    model: Any, images: NDArray[np.float32], labels: NDArray[np.integer]
) -> Evaluation:
    """Score a Keras model on (N, 28, 28) float32 images in [0, 1]."""
    return score(model_lib.predict(model, images), labels)


def cell_examples(
    probabilities: NDArray[np.float32],
    labels: NDArray[np.integer],
    true: int,
    read: int,
    limit: int = 24,
) -> NDArray[np.int64]:
    """Indices of images of digit `true` read as `read`, most confident first.

    Behind one confusion-matrix cell: the gallery the Train page shows.
    """
    predicted = probabilities.argmax(axis=1)
    hits = np.flatnonzero((labels == true) & (predicted == read))
    order = np.argsort(-probabilities[hits, read], kind="stable")
    return hits[order][:limit]


def confident_mistakes(
    probabilities: NDArray[np.float32], labels: NDArray[np.integer], limit: int = 24
) -> NDArray[np.int64]:
    """Indices of wrongly read images, the most confidently wrong first."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    order = np.argsort(-probabilities[wrong, predicted[wrong]], kind="stable")
    return wrong[order][:limit]

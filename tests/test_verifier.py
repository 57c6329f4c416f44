"""digit_core.verifier: is a piece of ink one whole digit?

Its examples are checked on their own; the bundled verifier is checked on
MNIST *test* digits (it trains on training digits only): alone, side by side
touching, and cut in half.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from digit_core import dnn, segment, verifier
from digit_core import model as model_lib
from digit_core.errors import ModelLoadError
from digit_core.preprocess import digit_input

ROOT = verifier.model_lib.PROJECT_ROOT


@pytest.fixture(scope="module")
def made(mnist):
    """2,000 examples from 500 training digits."""
    return verifier.examples(mnist.x_train[:500], 2_000, np.random.default_rng(1))


@pytest.fixture(scope="module")
def bundled():
    return verifier.load()


def wholeness(net, inks: list[np.ndarray]) -> np.ndarray:
    inputs = np.asarray([digit_input(ink)[0] for ink in inks], np.float32)
    return model_lib.predict(net, inputs)[:, 0]


def test_examples_are_digit_inputs_with_labels_by_kind(made):
    inputs, labels, kinds = made
    assert inputs.shape == (2_000, 28, 28) and inputs.dtype == np.float32
    assert inputs.min() >= 0.0 and inputs.max() <= 1.0
    assert set(np.unique(kinds).tolist()) == set(range(len(verifier.KINDS)))
    whole = np.isin(kinds, [verifier.ONE, verifier.ONE_OF_TWO])
    np.testing.assert_array_equal(labels, whole.astype(np.float32))
    assert 0.4 < labels.mean() < 0.75  # neither answer dominates


def test_examples_are_reproducible(mnist):
    first = verifier.examples(mnist.x_train[:50], 100, np.random.default_rng(7))
    again = verifier.examples(mnist.x_train[:50], 100, np.random.default_rng(7))
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_part_is_one_of_two_only_when_it_holds_one_digit_alone():
    layers = np.zeros((2, 10, 20), np.float32)
    layers[0, 2:8, 2:8] = 1.0
    layers[1, 2:8, 9:16] = 1.0
    both = layers.max(axis=0)
    left = segment.trimmed(0, 0, np.where(np.arange(20) < 9, both, 0.0))
    mixed = segment.trimmed(0, 0, np.where(np.arange(20) < 12, both, 0.0))
    assert left is not None and mixed is not None
    assert verifier._owner(left, layers, 0) == verifier.ONE_OF_TWO
    assert verifier._owner(mixed, layers, 0) == verifier.MIX


def test_the_bundled_verifier_tells_test_digits_from_touching_pairs(bundled, mnist):
    rng = np.random.default_rng(3)
    picks = rng.integers(0, len(mnist.x_test), (300, 2))
    singles, pairs, halves = [], [], []
    for a, b in picks:
        first = mnist.x_test[a].astype(np.float32) / 255
        second = mnist.x_test[b].astype(np.float32) / 255
        singles.append(first)
        cols = np.flatnonzero(first.max(axis=0) > 0.25)
        second_cols = np.flatnonzero(second.max(axis=0) > 0.25)
        touching = np.zeros((28, 60), np.float32)  # the boxes overlap by 1 px
        touching[:, : cols[-1] + 1] = first[:, : cols[-1] + 1]
        start = cols[-1]
        width = second_cols[-1] + 1 - second_cols[0]
        touching[:, start : start + width] = np.maximum(
            touching[:, start : start + width],
            second[:, second_cols[0] : second_cols[-1] + 1],
        )
        pairs.append(touching)
        middle = (cols[0] + cols[-1]) // 2
        halves.append(first[:, : middle + 1])
    one, two, half = (wholeness(bundled, inks) for inks in (singles, pairs, halves))
    # measured 2026-12-06: 95.3%, 98.3%, 90.3%; segmentation tolerates a digit
    # found not whole as long as no cut of it reads as two whole, sure digits
    assert (one >= 0.5).mean() >= 0.93
    assert (two < 0.5).mean() >= 0.95
    assert (half < 0.5).mean() >= 0.85


def test_the_bundled_verifier_runs_in_one_opencv_graph_with_the_digit_model(bundled):
    digits = model_lib.load()
    judging = verifier.judging(digits, bundled)
    tensorflow = model_lib.inference(judging)
    pool = dnn.runner(judging, tensorflow)
    assert pool is not None, "the judge must get the fast path"
    x = dnn.probe_batch()
    got = pool(x)
    assert got.shape == (3, 11)
    np.testing.assert_allclose(got[:, :10], model_lib.inference(digits)(x), atol=1e-4)
    np.testing.assert_allclose(got[:, 10:], model_lib.predict(bundled, x), atol=1e-4)


def test_the_card_describes_the_bundled_verifier(bundled):
    card = verifier.load_card()
    assert card is not None
    assert card.params == bundled.count_params()
    assert card.architecture == model_lib.layer_table(bundled)
    assert card.file_size == verifier.BUNDLED_VERIFIER.stat().st_size
    assert card.validation_accuracy >= 0.95
    assert set(card.per_kind_accuracy) == set(verifier.KINDS)
    assert len(card.history) == card.training["epochs"]


def test_a_digit_model_is_not_a_verifier():
    with pytest.raises(ModelLoadError):
        verifier.load(model_lib.BUNDLED_MODEL)


def test_the_training_script_writes_a_verifier_and_its_card(mnist, tmp_path):
    out = tmp_path / "v.keras"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "train_verifier.py"),
            "--examples",
            "1500",
            "--epochs",
            "1",
            "--data-path",
            mnist.source,
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "validation accuracy" in done.stdout
    net = verifier.load(out)
    card = verifier.load_card(out)
    assert card is not None and card.params == net.count_params()
    assert card.training["examples"] == 1500
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.json", "v.keras"]


def test_the_training_script_has_help():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_verifier.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0
    assert "--examples" in done.stdout and "--out" in done.stdout

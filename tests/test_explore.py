"""digit_core.explore: MNIST by class, checked on small made-up sets."""

from __future__ import annotations

import numpy as np
import pytest

from digit_core import explore
from digit_core.mosaic import GAP_VALUE

GREY = round(GAP_VALUE * 255)


@pytest.fixture
def made_up() -> tuple[np.ndarray, np.ndarray]:
    """1,100 images, 122 of each digit but 7 (none); 0 and 1 have one more.

    Every image of digit d is filled with the value 20 * d + 5, so a tile
    shows which class it came from.
    """
    labels = np.array([d for d in range(10) if d != 7] * 122 + [0, 1], np.uint8)
    images = np.repeat((20 * labels + 5)[:, None, None], 28, 1).repeat(28, 2)
    return images.astype(np.uint8), labels


def test_counts_per_class(made_up):
    _, labels = made_up
    counts = explore.class_counts(labels)
    assert counts == tuple(np.bincount(labels, minlength=10))
    assert len(counts) == 10 and counts[7] == 0 and sum(counts) == len(labels)


def test_the_mean_image_of_a_class(made_up):
    images, labels = made_up
    mean = explore.class_mean(images, labels, 3)
    assert mean.shape == (28, 28) and mean.dtype == np.float32
    np.testing.assert_allclose(mean, 65 / 255)
    assert not explore.class_mean(images, labels, 7).any()


def test_the_random_grid_holds_only_that_class(made_up):
    images, labels = made_up
    grid = explore.random_grid(images, labels, 4, count=9, seed=1)
    assert grid.shape == (3 * 29 - 1, 3 * 29 - 1)
    assert set(np.unique(grid)) == {85, GREY}


def test_the_same_seed_gives_the_same_grid(mnist):
    x, y = mnist.x_test, mnist.y_test
    first = explore.random_grid(x, y, 5, seed=3)
    assert (first == explore.random_grid(x, y, 5, seed=3)).all()
    assert (first != explore.random_grid(x, y, 5, seed=4)).any()


def test_an_absent_class_gives_an_empty_grid(made_up):
    assert explore.random_grid(*made_up, 7).shape == (28, 28)


def test_hardest_are_the_highest_losses_worst_first(made_up, monkeypatch):
    monkeypatch.setattr(explore, "BATCH", 50)
    images, labels = made_up
    sizes = []

    def predict(batch: np.ndarray) -> np.ndarray:
        """P(2) falls from 0.9 to 0.1 along each batch; the rest goes to 9."""
        sizes.append(len(batch))
        probabilities = np.zeros((len(batch), 10), np.float32)
        true = np.linspace(0.9, 0.1, len(batch))
        probabilities[:, 2] = true
        probabilities[:, 9] = 1 - true
        return probabilities

    hard = explore.hardest(predict, images, labels, 2, count=5)
    assert sizes == [50, 50, 22]  # the 122 twos, in batches
    losses = [h.loss for h in hard]
    assert losses == sorted(losses, reverse=True) and len(hard) == 5
    assert all(labels[h.index] == 2 and h.label == 2 for h in hard)
    assert hard[0].read == 9 and hard[0].confidence == pytest.approx(0.9)
    assert hard[0].loss == pytest.approx(-np.log(0.1), rel=1e-5)


def test_hardest_on_a_certain_model_has_finite_losses(made_up):
    images, labels = made_up

    def never_the_truth(batch: np.ndarray) -> np.ndarray:
        return np.eye(10, dtype=np.float32)[np.full(len(batch), 9)]

    hard = explore.hardest(never_the_truth, images, labels, 0)
    assert all(np.isfinite(h.loss) and h.read == 9 for h in hard)


def test_splits_and_digits_are_checked(mnist):
    assert explore.split(mnist, "test")[0] is mnist.x_test
    with pytest.raises(ValueError, match="split must be"):
        explore.split(mnist, "validation")
    with pytest.raises(ValueError, match="digit must be 0-9"):
        explore.class_mean(mnist.x_test, mnist.y_test, 10)

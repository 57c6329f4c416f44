"""digit_core.augment: training distortions keep batches valid and MNIST-style."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digit_core import augment
from digit_core.augment import AugmentConfig, augment_batch, augment_one


@pytest.fixture(scope="module")
def batch(mnist):
    images = mnist.x_test[:64].astype(np.float32) / 255.0
    return images, mnist.y_test[:64].copy()


def centre(image: np.ndarray) -> tuple[float, float]:
    m = cv2.moments(image)
    return m["m01"] / m["m00"], m["m10"] / m["m00"]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "cfg",
    [
        AugmentConfig(),
        AugmentConfig(elastic_prob=1.0, thickness_prob=1.0, blur_prob=1.0),
        AugmentConfig(clean_fraction=0.0, synthetic_fraction=0.5),
    ],
    ids=["default", "every-distortion", "half-synthetic"],
)
def test_augment_batch_keeps_shapes_dtype_range_labels(batch, seed, cfg):
    images, labels = batch
    before_images, before_labels = images.copy(), labels.copy()
    out, out_labels = augment_batch(images, labels, cfg, np.random.default_rng(seed))
    assert out.shape == images.shape
    assert out.dtype == np.float32
    assert np.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out_labels.shape == labels.shape
    assert out_labels.dtype == labels.dtype
    assert set(out_labels.tolist()) <= set(range(10))
    assert (out.reshape(len(out), -1).max(axis=1) > 0.5).all()  # no digit erased
    np.testing.assert_array_equal(images, before_images)  # inputs not modified
    np.testing.assert_array_equal(labels, before_labels)


def test_augment_batch_is_reproducible_by_seed(batch):
    images, labels = batch
    a = augment_batch(images, labels, AugmentConfig(), np.random.default_rng(7))
    b = augment_batch(images, labels, AugmentConfig(), np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_augment_batch_changes_most_images(batch):
    images, labels = batch
    cfg = AugmentConfig(clean_fraction=0.0, synthetic_fraction=0.0)
    out, out_labels = augment_batch(images, labels, cfg, np.random.default_rng(0))
    np.testing.assert_array_equal(out_labels, labels)  # no synthetic: labels kept
    changed = np.abs(out - images).mean(axis=(1, 2)) > 0.01
    assert changed.mean() > 0.9


def test_augment_batch_without_distortion_is_identity(batch):
    images, labels = batch
    cfg = AugmentConfig(clean_fraction=1.0, synthetic_fraction=0.0)
    out, out_labels = augment_batch(images, labels, cfg, np.random.default_rng(0))
    np.testing.assert_array_equal(out, images)
    np.testing.assert_array_equal(out_labels, labels)


def test_augmented_digits_are_renormalised_like_the_pipeline(batch):
    """Distorted digits are centred by mass again, so training matches inference."""
    images, _ = batch
    rng = np.random.default_rng(3)
    for image in images[:32]:
        out = augment_one(image, AugmentConfig(), rng)
        assert out.shape == (28, 28)
        row, col = centre(out)
        assert abs(row - 14) < 0.5 and abs(col - 14) < 0.5


def test_a_flagged_1_keeps_its_stem_and_gains_a_flag_down_left(mnist):
    """The continental 1: new ink left of the stem's top, running downwards."""
    ones = mnist.x_test[mnist.y_test == 1][:20].astype(np.float32) / 255.0
    rng = np.random.default_rng(0)
    for one in ones:
        flagged = augment._flagged(one, rng)
        assert flagged.shape == one.shape and flagged.dtype == np.float32
        assert flagged.min() >= 0.0 and flagged.max() <= 1.0
        assert (flagged[one > 0.5] > 0.4).mean() > 0.95  # the stem is kept
        added = (flagged > 0.5) & (one <= 0.5)
        rows, cols = np.nonzero(one > 0.5)
        top = rows.min()
        flag = added[top : top + (rows.max() - top) // 2 + 1]  # the upper half
        assert flag.any()
        flag_rows, flag_cols = np.nonzero(flag)
        assert flag_cols.mean() < cols[rows <= top + 1].mean()  # left of the top


def test_only_1s_get_flags(batch):
    images, labels = batch
    cfg = AugmentConfig(clean_fraction=0.0, synthetic_fraction=0.0, flag_prob=1.0)
    plain = AugmentConfig(clean_fraction=0.0, synthetic_fraction=0.0, flag_prob=0.0)
    flagged, _ = augment_batch(images, labels, cfg, np.random.default_rng(3))
    unflagged, _ = augment_batch(images, labels, plain, np.random.default_rng(3))
    differs = np.abs(flagged - unflagged).max(axis=(1, 2)) > 0
    assert differs[labels == 1].all()

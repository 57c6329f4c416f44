"""digit_core.explain: Grad-CAM and saliency, on one CNN and on an ensemble.

Oracles: an ensemble of two copies explains like the copy; an ensemble of two
different CNNs averages what each explains alone; the receptive-field centres
match where input gradients of one cell are; the input projected back onto the
picture lies on the picture's own ink.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import tensorflow as tf

from digit_core import charts, explain, inside
from digit_core import model as model_lib
from digit_core.preprocess import mass_centre


@pytest.fixture(scope="module")
def digits(mnist) -> tuple[np.ndarray, np.ndarray]:
    """The first 10 MNIST test images as (10, 28, 28) float32 in [0, 1], labels."""
    return mnist.x_test[:10].astype(np.float32) / 255, mnist.y_test[:10]


def ensemble_of(*nets):
    """A functional model averaging `nets`, as an ensemble would be built."""
    import keras

    x = keras.Input(model_lib.INPUT_SHAPE)
    return keras.Model(x, keras.layers.Average()([net(x) for net in nets]))


def renamed(net, name: str):
    """A copy of `net` with its weights, under another name (names must be unique)."""
    import keras

    copy = keras.models.clone_model(net)
    copy.set_weights(net.get_weights())
    copy.name = name
    return copy


@pytest.fixture(scope="module")
def tiny():
    """Two small untrained CNNs of different shapes, and their ensemble."""
    import keras

    keras.utils.set_random_seed(0)
    fast, reference = model_lib.build("fast"), model_lib.build("reference")
    fast.name, reference.name = "fast_member", "reference_member"
    return fast, reference, ensemble_of(fast, reference)


def test_maps_are_unit_heatmaps_of_the_digit_read(recognizer, digits):
    images, labels = digits
    found = explain.explain(recognizer.model, images, labels)
    assert [e.digit for e in found] == labels.tolist()
    for e in found:
        for heat in (e.gradcam, e.saliency):
            assert heat.shape == (28, 28) and heat.dtype == np.float32
            assert np.isfinite(heat).all()
            assert heat.min() >= 0.0 and heat.max() == pytest.approx(1.0)
        assert len(e.layers) == len(inside.members(recognizer.model))  # one per CNN


def test_the_heat_lies_on_the_digit(recognizer, digits):
    images, labels = digits
    found = explain.explain(recognizer.model, images, labels)
    ratios = []
    for image, e in zip(images, found, strict=True):
        near_ink = cv2.dilate((image > 0.2).astype(np.uint8), np.ones((3, 3))) > 0
        share = e.gradcam[near_ink].sum() / e.gradcam.sum()
        assert share > near_ink.mean()  # more heat on the digit than by chance
        ratios.append(share / near_ink.mean())
    assert np.mean(ratios) > 1.5


def test_the_default_digit_is_the_models_reading(recognizer, digits):
    images, _ = digits
    read = model_lib.predict(recognizer.model, images).argmax(axis=1)
    assert [e.digit for e in explain.explain(recognizer.model, images)] == list(read)


@pytest.mark.parametrize("level", [0.0, 0.5, 1.0], ids=["blank", "grey", "white"])
def test_a_uniform_input_gives_zero_maps(recognizer, tiny, level):
    for net in (recognizer.model, tiny[2]):
        (e,) = explain.explain(net, np.full((28, 28), level, np.float32), [3])
        assert not e.gradcam.any() and not e.saliency.any()
        assert np.isfinite(e.gradcam).all() and np.isfinite(e.saliency).all()


def test_an_ensemble_of_copies_explains_like_one_copy(recognizer, digits):
    images, labels = digits
    cnn = inside.members(recognizer.model)[0]  # the bundled model may be an ensemble
    twins = ensemble_of(renamed(cnn, "twin_a"), renamed(cnn, "twin_b"))
    alone = explain.explain(cnn, images[:3], labels[:3])
    together = explain.explain(twins, images[:3], labels[:3])
    for one, two in zip(alone, together, strict=True):
        np.testing.assert_allclose(two.gradcam, one.gradcam, atol=1e-5)
        np.testing.assert_allclose(two.saliency, one.saliency, atol=1e-5)
    assert len(together[0].layers) == 2


def test_an_ensemble_averages_its_members(tiny, digits):
    fast, reference, both = tiny
    images, labels = digits[0][:4], digits[1][:4]
    each = [explain.explain(net, images, labels) for net in (fast, reference)]
    for i, e in enumerate(explain.explain(both, images, labels)):
        for field in ("gradcam", "saliency"):
            mean = (getattr(each[0][i], field) + getattr(each[1][i], field)) / 2
            np.testing.assert_allclose(getattr(e, field), mean / mean.max(), atol=1e-5)


@pytest.mark.parametrize("preset", ["standard", "reference"])
def test_cell_centres_match_the_input_gradients(preset):
    """Cell m's receptive field, found by gradients, is centred on start + jump*m."""
    net = model_lib.build(preset)
    block = explain._cam_block(net)
    start, jump = explain._cell_centres(net, block)
    pixels = tf.constant(np.random.default_rng(0).random((1, 28, 28, 1), np.float32))
    cells = block.output.output.shape[1]
    m = cells // 2  # an inner cell: its field is not clipped by the frame
    with tf.GradientTape() as tape:
        tape.watch(pixels)
        (maps,), _ = inside.trace(net, pixels, [block.output])
        one_cell = tf.reduce_sum(maps[:, m, m, :])
    reached = np.abs(tape.gradient(one_cell, pixels).numpy()[0, ..., 0]) > 0
    rows, cols = np.flatnonzero(reached.any(1)), np.flatnonzero(reached.any(0))
    assert (rows[0] + rows[-1]) / 2 == pytest.approx(start + jump * m, abs=0.5)
    assert (cols[0] + cols[-1]) / 2 == pytest.approx(start + jump * m, abs=0.5)


@pytest.fixture(scope="module")
def drawn(recognizer, mnist):
    """An MNIST 7 enlarged 6x at (50, 30) in a 300x260 drawing, and its reading."""
    digit = mnist.x_test[0].astype(np.float32) / 255
    picture = np.zeros((260, 300), np.float32)
    picture[30 : 30 + 168, 50 : 50 + 168] = cv2.resize(digit, (168, 168))
    reading = recognizer.recognize(np.round(picture * 255).astype(np.uint8), "single")
    return picture, reading


def test_the_input_projected_back_lies_on_the_drawing(drawn):
    picture, reading = drawn
    (p,) = reading.predictions
    back = explain.to_picture(p.input, p, reading.size)
    assert back.shape == picture.shape and back.dtype == np.float32
    assert np.corrcoef(back.ravel(), picture.ravel())[0, 1] > 0.95
    np.testing.assert_allclose(mass_centre(back), mass_centre(picture), atol=1.5)


def test_a_smaller_shape_is_the_picture_shrunk(drawn):
    _, reading = drawn
    (p,) = reading.predictions
    full = explain.to_picture(p.input, p, reading.size)
    half = explain.to_picture(p.input, p, reading.size, shape=(130, 150))
    np.testing.assert_allclose(
        np.asarray(mass_centre(half)), np.asarray(mass_centre(full)) / 2, atol=0.5
    )


def test_the_picture_overlay_is_the_boxed_picture_where_there_is_no_heat(drawn):
    picture, reading = drawn
    boxes, labels = [p.box for p in reading.predictions], ["7"]
    plain = charts.with_boxes(reading.steps[0].image, boxes, labels, reading.size)
    cold = explain.picture_overlay(reading, [np.zeros((28, 28), np.float32)])
    np.testing.assert_array_equal(cold, plain)
    hot = explain.picture_overlay(reading, [np.ones((28, 28), np.float32)])
    assert hot.shape == plain.shape and hot.dtype == np.uint8
    assert (hot != plain).any()
    with pytest.raises(ValueError, match="2 heatmaps for 1 digits"):
        explain.picture_overlay(reading, [np.zeros((28, 28))] * 2)


def test_overlay_leaves_cold_pixels_alone():
    image = np.linspace(0, 1, 28 * 28, dtype=np.float32).reshape(28, 28)
    heat = np.zeros((28, 28), np.float32)
    heat[10:20, 10:20] = 1.0
    out = explain.overlay(image, heat)
    assert out.shape == (28, 28, 3) and out.dtype == np.uint8
    gray = np.repeat(charts.to_uint8(image)[..., None], 3, axis=2)
    np.testing.assert_array_equal(out[heat == 0], gray[heat == 0])
    assert (out[heat == 1] != gray[heat == 1]).any()


def test_bad_requests_are_refused(tiny):
    net = tiny[0]
    with pytest.raises(ValueError, match="one digit 0-9 per input"):
        explain.explain(net, np.zeros((2, 28, 28), np.float32), [1])
    with pytest.raises(ValueError, match="one digit 0-9 per input"):
        explain.explain(net, np.zeros((28, 28), np.float32), [10])
    with pytest.raises(ValueError, match="finite"):
        explain.explain(net, np.full((28, 28), np.nan, np.float32), [1])

"""digit_core.inside: CNNs found in any model, blocks, activations and filters."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from digit_core import inside
from digit_core import model as model_lib
from digit_core.mosaic import mosaic


@pytest.fixture(scope="module")
def reference():
    import keras

    keras.utils.set_random_seed(0)
    return model_lib.build("reference")


@pytest.fixture(scope="module")
def ensemble(reference):
    """Two renamed copies of the reference CNN, averaged."""
    import keras

    copies = []
    for name in ("left", "right"):
        copy = keras.models.clone_model(reference)
        copy.set_weights(reference.get_weights())
        copy.name = name
        copies.append(copy)
    x = keras.Input(model_lib.INPUT_SHAPE)
    return keras.Model(x, keras.layers.Average()([net(x) for net in copies]))


def test_members_of_a_plain_cnn_and_of_an_ensemble(reference, ensemble):
    assert inside.members(reference) == (reference,)
    assert [net.name for net in inside.members(ensemble)] == ["left", "right"]


def test_a_model_without_convolutions_is_refused():
    import keras

    dense = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten()])
    with pytest.raises(ValueError, match="no Conv2D"):
        inside.members(dense)


@pytest.mark.parametrize(
    ("preset", "ends"),
    [("standard", {"ReLU", "Dropout"}), ("fast", {"Conv2D"})],
)
def test_a_block_ends_after_its_norm_and_activation(preset, ends):
    blocks = inside.conv_blocks(model_lib.build(preset))
    assert len(blocks) == (7 if preset == "standard" else 2)
    assert {type(b.output).__name__ for b in blocks} == ends
    for block in blocks:
        assert block.output.output.shape == block.conv.output.shape


def test_activations_are_one_grid_per_conv_layer(reference, mnist):
    digit = mnist.x_test[0].astype(np.float32) / 255
    layers = inside.activations(reference, digit)
    convs = [block.conv.name for block in inside.conv_blocks(reference)]
    assert [(g.name, g.shape) for g in layers] == [
        (convs[0], (26, 26, 32)),
        (convs[1], (11, 11, 64)),
    ]
    # 32 tiles of 26 -> 6x6 grid; 64 tiles of 11 -> 8x8 grid, 1 px gaps
    assert [g.grid.shape for g in layers] == [(161, 161), (95, 95)]
    assert all(g.grid.dtype == np.uint8 and g.grid.max() == 255 for g in layers)


def test_a_blank_input_still_gives_grids(reference):
    for grid in inside.activations(reference, np.zeros((28, 28), np.float32)):
        assert grid.grid.dtype == np.uint8


def test_ensemble_layers_are_named_by_member(ensemble):
    names = [g.name for g in inside.activations(ensemble, np.ones((28, 28)) / 2)]
    convs = [
        f"{net.name}/{block.conv.name}"
        for net in inside.members(ensemble)
        for block in inside.conv_blocks(net)
    ]
    assert names == convs and convs[0].startswith("left/")


def test_first_filters_show_zero_weights_as_grey(reference):
    (grid,) = inside.first_filters(reference)
    assert grid.shape == (3, 3, 32)
    assert grid.grid.shape == mosaic(np.zeros((32, 3, 3))).shape
    kernel = np.asarray(reference.layers[0].kernel)[:, :, 0, :]  # (3, 3, 32)
    strongest = np.unravel_index(np.abs(kernel).argmax(), kernel.shape)
    row, col, index = strongest
    top, left = (index // 6) * 4 + row, (index % 6) * 4 + col  # 6 columns, 3+1 px
    assert grid.grid[top, left] in (0, 255)  # the largest weight is white or black


def test_trace_of_a_loaded_sequential_carries_gradients(reference, tmp_path):
    """A loaded Sequential's layers keep stale graph nodes; trace must not use them."""
    path = tmp_path / "tiny.keras"
    reference.save(path)
    loaded = model_lib.load(path)
    tap = inside.conv_blocks(loaded)[-1].output
    pixels = tf.constant(np.random.default_rng(0).random((2, 28, 28, 1), np.float32))
    with tf.GradientTape() as tape:
        tape.watch(pixels)
        (maps,), features = inside.trace(loaded, pixels, [tap])
        score = tf.reduce_sum(features)
    map_grad, pixel_grad = tape.gradient(score, [maps, pixels])
    assert map_grad is not None and pixel_grad is not None
    assert maps.shape == (2, 11, 11, 64) and features.shape == (2, 1600)


@pytest.mark.parametrize("shape", [(28, 28), (3, 28, 28), (3, 28, 28, 1)])
def test_as_batch_takes_one_or_many_inputs(shape):
    assert inside.as_batch(np.zeros(shape)).shape[1:] == (28, 28, 1)


@pytest.mark.parametrize("bad", [np.zeros((27, 28)), np.full((28, 28), np.inf)])
def test_as_batch_refuses_what_is_not_an_input(bad):
    with pytest.raises(ValueError, match="finite"):
        inside.as_batch(bad)

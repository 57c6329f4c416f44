"""Inside the network: its CNNs, their convolution blocks, activations and filters.

A model is either one CNN (Sequential or functional) or an ensemble, a
functional model that averages several member CNNs; `members` finds the CNNs
either way, so the Learn page and explain.py work on both. The layer table
itself is model.layer_table.

A convolution "block" is a Conv2D layer with the shape-keeping layers after it
(batch norm, ReLU, dropout): its output is what the next block sees. In the
standard preset the Conv2D itself has no activation, so the block's output,
not the raw convolution, is the feature map worth showing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digit_core.model import INPUT_SHAPE
from digit_core.mosaic import mosaic


@dataclass(frozen=True, slots=True)
class ConvBlock:
    """A Conv2D layer and the last layer of its block (the conv itself if alone)."""

    conv: Any  # keras.layers.Conv2D
    output: Any  # the layer whose output is the block's feature map


@dataclass(frozen=True, slots=True)
class LayerGrid:
    """One layer as a picture: its channels (or filters) tiled, see mosaic."""

    name: str  # the conv layer; "member/layer" inside an ensemble
    shape: tuple[int, int, int]  # rows, columns, channels of each tile stack
    grid: NDArray[np.uint8]  # (H, W), bright = strong (filters: grey = 0)


def _is_conv(layer: Any) -> bool:
    import keras

    return isinstance(layer, keras.layers.Conv2D)


def members(model: Any) -> tuple[Any, ...]:
    """The CNNs in `model`: (model,) for a plain CNN, its members for an ensemble.

    Searched recursively: a model holding Conv2D layers is a CNN; otherwise its
    sub-models are searched. Each member takes the model's (N, 28, 28, 1) input
    and ends in its own 10-way layer. Raises ValueError when there is no Conv2D.
    """
    import keras

    def search(net: Any) -> tuple[Any, ...]:
        if any(_is_conv(layer) for layer in net.layers):
            return (net,)
        subs = (layer for layer in net.layers if isinstance(layer, keras.Model))
        return tuple(found for sub in subs for found in search(sub))

    found = search(model)
    if not found:
        msg = f"model {model.name!r} has no Conv2D layer to look inside"
        raise ValueError(msg)
    return found


def conv_blocks(net: Any) -> tuple[ConvBlock, ...]:
    """Each Conv2D of one CNN with the shape-keeping layers that follow it.

    A block ends before the next Conv2D or the first layer that changes the
    shape (pooling, flatten). Example, standard preset: conv2d, batch_norm,
    re_lu -> ConvBlock(conv2d, re_lu).
    """
    blocks = []
    layers = net.layers
    for index, layer in enumerate(layers):
        if not _is_conv(layer):
            continue
        last = layer
        for after in layers[index + 1 :]:
            if _is_conv(after) or after.output.shape != layer.output.shape:
                break
            last = after
        blocks.append(ConvBlock(layer, last))
    return tuple(blocks)


def trace(net: Any, x: Any, taps: Sequence[Any]) -> tuple[list[Any], Any]:
    """Run one CNN on x; return the outputs of the `taps` layers and the head's input.

    The head is the last layer (its input: the features before the softmax).
    Runs eagerly in inference mode, so it works under tf.GradientTape.
    A Sequential is run layer by layer: after loading, its layers keep stale
    graph nodes, so `layer.output` may not connect to `net.inputs` (measured:
    gradients came back None). x: (N, 28, 28, 1) tensor.
    """
    import keras

    head = net.layers[-1]
    if isinstance(net, keras.Sequential):
        outputs = {}
        hidden = x
        for layer in net.layers[:-1]:
            hidden = layer(hidden, training=False)
            outputs[id(layer)] = hidden
        return [outputs[id(tap)] for tap in taps], hidden
    probe = keras.Model(net.inputs, [*(tap.output for tap in taps), head.input])
    *tapped, head_input = probe(x, training=False)
    return tapped, head_input


def as_batch(images: NDArray) -> NDArray[np.float32]:
    """(28, 28) or (N, 28, 28[, 1]) in [0, 1] -> (N, 28, 28, 1) float32, checked."""
    x = np.asarray(images, dtype=np.float32)
    shaped = x.shape[-2:] == INPUT_SHAPE[:2] or x.shape[-3:] == INPUT_SHAPE
    if not shaped or not np.isfinite(x).all():
        msg = f"need finite (N, 28, 28) inputs, not shape {x.shape}"
        raise ValueError(msg)
    return x.reshape(-1, *INPUT_SHAPE)


def _unit(values: NDArray[np.float32]) -> NDArray[np.float32]:
    """Scale to [0, 1] by the array's own range; a constant array becomes 0."""
    low, high = float(values.min()), float(values.max())
    if high - low <= 1e-12:
        return np.zeros_like(values)
    return (values - low) / (high - low)


def _name(model: Any, net: Any, layer: Any) -> str:
    return layer.name if net is model else f"{net.name}/{layer.name}"


def activations(model: Any, image: NDArray[np.float32]) -> tuple[LayerGrid, ...]:
    """Each convolution block's output for one input, its channels as a grid.

    image: (28, 28) float32 in [0, 1], ink high. Each layer is scaled by its own
    range (a channel as bright as the layer's strongest is white, a silent one
    black), so channels compare within a layer. One grid per block, network
    order, members one after another.
    """
    x = as_batch(image)
    grids = []
    for net in members(model):
        blocks = conv_blocks(net)
        tapped, _ = trace(net, x, [block.output for block in blocks])
        for block, values in zip(blocks, tapped, strict=True):
            maps = np.asarray(values)[0]  # (h, w, channels)
            tiles = _unit(np.moveaxis(maps, -1, 0))  # (channels, h, w)
            name = _name(model, net, block.conv)
            grids.append(LayerGrid(name, maps.shape, mosaic(tiles)))
    return tuple(grids)


def first_filters(model: Any) -> tuple[LayerGrid, ...]:
    """The learned kernels of each CNN's first Conv2D, one tile per filter.

    Grey is 0, white the most positive weight, black the most negative: a
    filter lights up where the input looks like its white part. Kernels over
    several input channels are averaged over them.
    """
    grids = []
    for net in members(model):
        conv = conv_blocks(net)[0].conv
        kernel = np.asarray(conv.kernel).mean(axis=2)  # (k, k, filters)
        peak = float(np.abs(kernel).max()) or 1.0
        tiles = 0.5 + 0.5 * np.moveaxis(kernel, -1, 0) / peak  # (filters, k, k)
        grids.append(LayerGrid(_name(model, net, conv), kernel.shape, mosaic(tiles)))
    return tuple(grids)

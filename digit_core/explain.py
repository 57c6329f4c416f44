"""Why this digit: Grad-CAM and saliency heatmaps, over the input and the picture.

Grad-CAM (Selvaraju et al. 2017; keras.io examples/vision/grad_cam.py) in its
LayerCAM form (Jiang et al. 2021), per CNN:
  1. run the CNN, keeping the maps of its last convolution block with at least
     MIN_CELLS x MIN_CELLS cells (coarser ones, 4x4 and 1x1 in the standard
     preset, cannot say where);
  2. take the gradient of the digit's logit (the score before the softmax,
     which saturates) with respect to those maps;
  3. weigh each channel at each cell by its positive gradient there. Classic
     Grad-CAM's one mean gradient per channel left a single hot cell on most
     MNIST digits with the standard model (measured); per cell, the heat
     follows the strokes;
  4. heat = ReLU(the weighted channels summed): the cells arguing for the digit;
  5. place the cells on the 28x28 input at their receptive fields' centres;
  6. divide by the maximum, which is 0 on a blank input: then the heat stays 0.
Saliency (Simonyan et al. 2014): |d logit / d pixel|, divided by its maximum.
An ensemble (a model averaging several CNNs, see inside.members) is explained
CNN by CNN for the same digit, and the maps are averaged.

`to_picture` undoes the fitting steps of preprocess.digit_input, so the heat
lands on the user's own drawing or photo. Needs the TensorFlow backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from digit_core import charts
from digit_core import model as model_lib
from digit_core.inside import ConvBlock, as_batch, conv_blocks, members, trace
from digit_core.normalize import SIZE
from digit_core.preprocess import mass_centre
from digit_core.recognize import Prediction, Reading

# Configurable parameters
MIN_CELLS = 10  # Grad-CAM maps at least this many cells a side: 2-3 px a cell
FLAT = 1e-6  # an input whose values span less than this is blank: no heat
TINY = 1e-12  # a heatmap whose maximum is below this is all 0
STRENGTH = 0.6  # opacity of the hottest colour over the picture
COLOURS = cv2.COLORMAP_TURBO  # blue (cold) to red (hot)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Where the network found the evidence for one digit, as two heatmaps."""

    digit: int  # the digit explained
    gradcam: NDArray[np.float32]  # (28, 28) in [0, 1]: regions arguing for `digit`
    saliency: NDArray[np.float32]  # (28, 28) in [0, 1]: pixels the score reacts to
    layers: tuple[str, ...]  # the Grad-CAM block of each CNN, e.g. ("re_lu_3",)


# helpers


def _cam_block(net: Any) -> ConvBlock:
    """The last block with maps of at least MIN_CELLS a side (else the first one)."""
    blocks = conv_blocks(net)
    fine = [b for b in blocks if b.output.output.shape[1] >= MIN_CELLS]
    return (fine or list(blocks[:1]))[-1]


def _cell_centres(net: Any, block: ConvBlock) -> tuple[float, float]:
    """(start, jump): cell m of the block's maps is centred on pixel start + jump * m.

    Receptive-field arithmetic over the convolutions and poolings up to the
    block (square kernels and strides; "same" padding puts the odd pixel after,
    as TensorFlow does). Example, reference preset's second conv: 3x3 valid
    (1, 1), 2x2 pool (1.5, 2), 3x3 valid (3.5, 2): its 11 cells span 3.5..23.5.
    """
    start, jump = 0.0, 1.0
    for layer in net.layers:
        kernel = getattr(layer, "kernel_size", getattr(layer, "pool_size", None))
        if kernel is not None:
            stride = layer.strides[0]
            span = (kernel[0] - 1) * getattr(layer, "dilation_rate", (1,))[0] + 1
            pad = 0
            if layer.padding == "same":
                size_in, size_out = layer.input.shape[1], layer.output.shape[1]
                pad = max((size_out - 1) * stride + span - size_in, 0) // 2
            start += ((span - 1) / 2 - pad) * jump
            jump *= stride
        if layer is block.output:
            return start, jump
    msg = f"{block.output.name} is not a layer of {net.name}"
    raise ValueError(msg)


def _logits(head: Any, features: Any) -> Any:
    """The head's output before its softmax: a saturated softmax has no gradient."""
    config = head.get_config()
    if config.get("activation") != "softmax":
        return head(features)
    linear = type(head).from_config({**config, "activation": "linear"})
    linear.build(features.shape)
    linear.set_weights(head.get_weights())
    return linear(features)


def _peak_one(maps: NDArray[np.float32]) -> NDArray[np.float32]:
    """Each (h, w) map of an (N, h, w) stack divided by its maximum; 0 stays 0."""
    peaks = maps.max(axis=(1, 2), keepdims=True)
    safe = np.where(peaks > TINY, peaks, 1.0)
    return np.where(peaks > TINY, maps / safe, 0.0).astype(np.float32)


def _explain_cnn(
    net: Any, x: NDArray[np.float32], digits: NDArray[np.intp]
) -> tuple[NDArray[np.float32], NDArray[np.float32], str]:
    """Grad-CAM and saliency of one CNN: (N, 28, 28) each in [0, 1], block name."""
    import tensorflow as tf

    block = _cam_block(net)
    pixels = tf.constant(x)  # (N, 28, 28, 1)
    with tf.GradientTape() as tape:
        tape.watch(pixels)
        (maps,), features = trace(net, pixels, [block.output])  # maps: (N, h, w, C)
        logits = _logits(net.layers[-1], features)  # (N, 10)
        score = tf.reduce_sum(tf.gather(logits, digits[:, None], batch_dims=1))
    map_grads, pixel_grads = tape.gradient(score, [maps, pixels])
    weighted = tf.reduce_sum(tf.nn.relu(map_grads) * maps, axis=-1)  # (N, h, w)
    cells = tf.nn.relu(weighted).numpy()  # maps of a block without ReLU may be < 0
    start, jump = _cell_centres(net, block)
    place = np.float32([[jump, 0, start], [0, jump, start]])  # cell -> input pixel
    cam = np.stack([cv2.warpAffine(c, place, (SIZE, SIZE)) for c in cells])
    saliency = np.abs(pixel_grads.numpy()[..., 0])  # (N, 28, 28)
    return _peak_one(cam), _peak_one(saliency), block.output.name


def _step_image(prediction: Prediction, name: str) -> NDArray:
    return next(step.image for step in prediction.steps if step.name == name)


# actions


def explain(
    model: Any, inputs: NDArray[np.float32], digits: Sequence[int] | None = None
) -> tuple[Explanation, ...]:
    """Grad-CAM and saliency for each input, for its digit in `digits`.

    inputs: (28, 28) or (N, 28, 28) float32 in [0, 1], ink high (Prediction.input).
    digits: the digit to explain per input; default the model's own reading.
    A blank or uniform input gets all-zero maps; no map is ever NaN.
    """
    x = as_batch(inputs)
    if digits is None:
        digits = model_lib.predict(model, x).argmax(axis=1)
    wanted = np.asarray(digits, dtype=np.intp).reshape(-1)
    if len(wanted) != len(x) or not ((wanted >= 0) & (wanted <= 9)).all():
        msg = f"need one digit 0-9 per input: {len(x)} inputs, digits {wanted}"
        raise ValueError(msg)
    per_cnn = [_explain_cnn(net, x, wanted) for net in members(model)]
    flat = (np.ptp(x, axis=(1, 2, 3)) < FLAT)[:, None, None]

    def combined(index: int) -> NDArray[np.float32]:
        mean = np.mean([maps[index] for maps in per_cnn], axis=0)
        return np.where(flat, 0.0, _peak_one(mean)).astype(np.float32)

    gradcam, saliency = combined(0), combined(1)
    layers = tuple(name for _, _, name in per_cnn)
    return tuple(
        Explanation(int(d), g, s, layers)
        for d, g, s in zip(wanted, gradcam, saliency, strict=True)
    )


def to_picture(
    heat: NDArray[np.float32],
    prediction: Prediction,
    size: tuple[int, int],
    shape: tuple[int, int] | None = None,
) -> NDArray[np.float32]:
    """One digit's (28, 28) heatmap in the picture's pixels: the fitting undone.

    preprocess.digit_input fitted the digit's ink (its box in the picture) into
    the "fitted" step's (rows, cols), then shifted it to centre its mass: the
    "centred" step. The shift is read off the two steps' mass centres (a shift
    moves the mass centre by exactly itself), whatever rule chose it.
    Inverted: input pixel edge e -> fitted edge e - shift -> picture box
    x + (e - shift) * w / cols. Exact up to the pen step, which may have
    thickened the strokes by a pen width before fitting.
    size: the picture's (width, height), Reading.size. shape: (h, w) of the
    result, default (height, width); a smaller one is the picture shrunk for
    display. Returns float32 in [0, 1], 0 outside the digit's 28x28 frame.
    """
    fitted = _step_image(prediction, "fitted")
    rows, cols = fitted.shape[:2]
    (fy, fx), (cy, cx) = (
        mass_centre(fitted),
        mass_centre(_step_image(prediction, "centred")),
    )
    dy, dx = cy - fy, cx - fx  # the centring shift, in input pixels
    x, y, w, h = prediction.box
    out_h, out_w = shape if shape is not None else (size[1], size[0])
    sx, sy = out_w / size[0], out_h / size[1]  # output pixels per picture pixel
    kx, ky = w / cols, h / rows  # picture pixels per fitted pixel
    # pixel centres are edges - 0.5 on both sides of the map
    to_out = np.float32(
        [
            [sx * kx, 0, sx * (x + (0.5 - dx) * kx) - 0.5],
            [0, sy * ky, sy * (y + (0.5 - dy) * ky) - 0.5],
        ]
    )
    return cv2.warpAffine(
        np.asarray(heat, np.float32), to_out, (out_w, out_h), flags=cv2.INTER_LINEAR
    )


def overlay(
    image: NDArray, heat: NDArray[np.float32], strength: float = STRENGTH
) -> NDArray[np.uint8]:
    """The heat in colour over a picture; where it is 0 the picture shows unchanged.

    image: (h, w) or (h, w, 3), float in [0, 1] or uint8 (charts.to_uint8).
    heat: (h, w) in [0, 1]. Returns (h, w, 3) uint8 RGB. Not modified.
    """
    base = charts.to_uint8(image).astype(np.float32)
    if base.ndim == 2:
        base = np.repeat(base[..., None], 3, axis=2)
    level = np.clip(np.asarray(heat, np.float32), 0.0, 1.0)
    colour = cv2.applyColorMap(charts.to_uint8(level), COLOURS)[..., ::-1]  # RGB
    alpha = strength * level[..., None]
    return np.round(base * (1 - alpha) + colour * alpha).astype(np.uint8)


def picture_overlay(
    reading: Reading, heats: Sequence[NDArray[np.float32]], max_side: int = 720
) -> NDArray[np.uint8]:
    """The whole picture, shrunk to max_side, with every digit's heat and box.

    heats: one (28, 28) map per prediction, in order. Where digits' frames
    overlap the hotter map wins. Returns (H, W, 3) uint8 RGB (charts.with_boxes).
    """
    if len(heats) != len(reading.predictions):
        msg = f"{len(heats)} heatmaps for {len(reading.predictions)} digits"
        raise ValueError(msg)
    picture = reading.steps[0].image
    plain = charts.with_boxes(picture, (), (), reading.size, max_side)
    heat = np.zeros(plain.shape[:2], np.float32)
    for prediction, digit_heat in zip(reading.predictions, heats, strict=True):
        placed = to_picture(digit_heat, prediction, reading.size, plain.shape[:2])
        heat = np.maximum(heat, placed)
    boxes = [p.box for p in reading.predictions]
    labels = [str(p.digit) for p in reading.predictions]
    return charts.with_boxes(
        overlay(plain, heat), boxes, labels, reading.size, max_side
    )

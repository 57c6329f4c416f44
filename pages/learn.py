"""Learn: look inside the network as it reads a digit; browse what it learned from."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st
from numpy.typing import NDArray

from digit_core import charts, explore, inside
from digit_core import model as model_lib
from digit_core.data import ENV_VAR, LOCAL_PATH
from digit_core.errors import DatasetNotFoundError
from digit_core.recognize import Recognizer
from pages.common import (
    STEP_WIDTH,
    drawing_pad,
    hardest,
    mnist,
    recognizer,
    show_errors,
    through_app,
)

through_app(__file__)


TABS = ("Inside the network", "Dataset explorer")
TAB = "learn.tab"
CANVAS = "learn.canvas"
SEED = "learn.seed"  # the random grid's seed; "Shuffle" moves it on
PAD = 196  # px: a small canvas, leaving room for the grids
PEN = 14  # px: the Draw page's default pen, scaled to the smaller canvas
GRID_WIDTH = 300  # px: a layer's channel grid, enlarged with hard pixel edges
PER_ROW = 3  # activation grids side by side
SAMPLES = 48  # examples in the random grid
HARD = 12  # hardest examples shown
HARD_WIDTH = 84  # px: one hard example, 3 px a pixel
SPLIT_LABELS = {"train": "Training set (60,000)", "test": "Test set (10,000)"}


def enlarged(grid: NDArray) -> NDArray:
    """A grid enlarged by a whole factor to at least GRID_WIDTH, pixels kept sharp."""
    return charts.pixelated(grid, math.ceil(GRID_WIDTH / grid.shape[1]))


def show_activations(reader: Recognizer) -> None:
    """A small canvas, then what every convolution block makes of the drawing."""
    pad, seen = st.columns([1, 2], gap="large")
    with pad:
        picture = drawing_pad(CANVAS, PAD, PEN)
    reading = None
    if picture is not None:
        with show_errors():
            reading = reader.recognize(picture, mode="single")
    if reading is None or reading.empty:
        seen.info(
            "Draw a digit to see what each layer makes of it.", icon=":material/draw:"
        )
        return
    digit = reading.predictions[0]
    seen.image(
        charts.pixelated(digit.input, charts.ENLARGE),
        caption=f"The 28x28 input, read as {digit.digit} ({digit.confidence:.0%})",
        width=STEP_WIDTH,
    )
    seen.caption(
        "Each convolution layer's channels, one square each: bright where the "
        "channel responds. Early layers find edges and strokes, later ones parts "
        "of digits, on ever coarser grids."
    )
    layers = inside.activations(reader.model, digit.input)
    for start in range(0, len(layers), PER_ROW):
        row = layers[start : start + PER_ROW]
        for column, layer in zip(st.columns(PER_ROW)[: len(row)], row, strict=True):
            rows, cols, channels = layer.shape
            column.image(
                enlarged(layer.grid),
                caption=f"{layer.name}: {channels} x {rows}x{cols}",
            )


def show_layers(reader: Recognizer) -> None:
    """The layer table of the model (and of each member of an ensemble), filters."""
    st.subheader("Layers", anchor=False)
    nets = inside.members(reader.model)
    for net in (reader.model,) if nets == (reader.model,) else (reader.model, *nets):
        rows = [
            {
                "layer": row.name,
                "type": row.kind,
                "output shape": " x ".join(str(n) for n in row.output_shape[1:]),
                "parameters": row.params,
            }
            for row in model_lib.layer_table(net)
        ]
        st.caption(f"{net.name}: {sum(r['parameters'] for r in rows):,} parameters")
        st.dataframe(
            pd.DataFrame(rows), hide_index=True, key=f"learn.layers.{net.name}"
        )
    st.subheader("First-layer filters", anchor=False)
    st.caption(
        "The learned 3x3 or 5x5 patterns the first layer looks for: white weighs "
        "ink up, black weighs it down, grey ignores it."
    )
    for grid in inside.first_filters(reader.model):
        rows, cols, count = grid.shape
        st.image(
            enlarged(grid.grid), caption=f"{grid.name}: {count} filters, {rows}x{cols}"
        )


def show_missing_dataset(err: DatasetNotFoundError) -> None:
    """Say exactly where MNIST is looked for and how to put it there."""
    st.warning(err.user_message, icon=":material/dataset:")
    st.markdown(
        "Download `mnist.npz` (the file `keras.datasets.mnist.load_data()` uses) "
        "on a machine with internet, then either copy it into the project:"
    )
    st.code(f"mkdir -p {LOCAL_PATH.parent} && cp mnist.npz {LOCAL_PATH}", "bash")
    st.markdown(f"or point `{ENV_VAR}` to it before starting the app:")
    st.code(f"{ENV_VAR}=/path/to/mnist.npz streamlit run app.py", "bash")
    st.caption(f"Details: {err}")


def show_dataset() -> None:
    """MNIST by class: counts, a random grid, the mean image, the hardest examples."""
    try:
        data = mnist()
    except DatasetNotFoundError as err:
        show_missing_dataset(err)
        return
    split = st.radio(
        "Set",
        explore.SPLITS,
        format_func=SPLIT_LABELS.get,
        index=explore.SPLITS.index("test"),  # unseen by the model, and 6x quicker
        horizontal=True,
        key="learn.split",
    )
    images, labels = explore.split(data, split)
    counts = explore.class_counts(labels)
    st.bar_chart(
        pd.DataFrame({"digit": [str(d) for d in range(10)], "examples": counts}),
        x="digit",
        y="examples",
        height=200,
    )
    digit = st.radio("Digit", range(10), horizontal=True, key="learn.digit")
    st.subheader(f"{counts[digit]:,} examples of {digit}", anchor=False)
    grid, mean = st.columns([2, 1], gap="large")
    with grid:
        if st.button("Shuffle", key="learn.shuffle", icon=":material/shuffle:"):
            st.session_state[SEED] = st.session_state.get(SEED, 0) + 1
        seed = st.session_state.get(SEED, 0)
        st.image(
            enlarged(explore.random_grid(images, labels, digit, SAMPLES, seed)),
            caption=f"{SAMPLES} at random",
        )
    mean.image(
        charts.pixelated(explore.class_mean(images, labels, digit), charts.ENLARGE),
        caption=f"The mean {digit}: where most writers put ink",
        width=STEP_WIDTH,
    )
    st.subheader("Hardest for the model", anchor=False)
    st.caption("The highest loss on the true label: misread first, then doubtful.")
    hard = hardest(split, digit, HARD)
    st.image(
        [charts.pixelated(images[h.index], 3) for h in hard],
        caption=[f"read {h.read} ({h.confidence:.0%})" for h in hard],
        width=HARD_WIDTH,
    )


st.title("Learn")
st.write(
    "See what the network computes for your drawing, and the data it learned from."
)

reader = recognizer()
if reader is None:
    st.stop()

network, dataset = st.tabs(TABS, key=TAB, on_change="rerun")
if network.open:
    with network:
        show_activations(reader)
        show_layers(reader)
if dataset.open:
    with dataset:
        show_dataset()

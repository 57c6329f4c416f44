"""Draw: write a digit or a whole number and see it read after every stroke."""

from __future__ import annotations

import streamlit as st

from digit_core.recognize import MODES
from pages.common import (
    MODE_LABELS,
    READING,
    drawing_pad,
    recognizer,
    show_boxes,
    show_errors,
    show_headline,
    show_probabilities,
    show_steps,
    through_app,
)
from pages.teach import teach
from pages.why import show_why

through_app(__file__)

CANVAS = "draw.canvas"
BRUSH = "draw.brush"
SIZE = 280  # px: a square for a finger, narrower than a 390 px phone screen
BRUSH_SIZES = (8, 40, 20)  # px: min, max, default (a tall digit: a pen like MNIST's)
BOXES_WIDTH = 200  # px: the drawing again, with boxes, smaller than the canvas
HINT = "Draw a digit, or a number of several digits, in the black square."

st.title("Draw")
st.write("Write with the mouse or a finger: the network reads after every stroke.")

reader = recognizer()
if reader is None:
    st.stop()

pad, reading_column = st.columns([1, 1], gap="large")
with pad:
    picture = drawing_pad(CANVAS, SIZE, st.session_state.get(BRUSH, BRUSH_SIZES[2]))
    st.caption("Undo, redo and clear: the canvas toolbar, top right.")
    st.slider("Brush size", *BRUSH_SIZES, key=BRUSH)
    mode = st.radio(
        "Read as", MODES, format_func=MODE_LABELS.get, horizontal=True, key="draw.mode"
    )

reading = None
with reading_column, st.container(key=READING):
    if picture is None:
        st.info(HINT, icon=":material/draw:")
    else:
        with show_errors():
            reading = reader.recognize(picture, mode=mode)
        if reading is not None and reading.empty:
            st.info(HINT, icon=":material/draw:")
        elif reading is not None:
            show_headline(reading)
            if len(reading.predictions) > 1:
                show_boxes(reading, width=BOXES_WIDTH)
            show_probabilities(reading.predictions, key="draw.chart")
            teach(reading, key="draw.teach")

show_why(reading, key="draw.why")
seen = st.expander("What the model sees", key="draw.seen", on_change="rerun")
if seen.open and reading is not None:
    with seen:
        show_steps(reading)

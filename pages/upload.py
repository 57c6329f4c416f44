"""Upload: read the digits in a photo, a scan or a camera shot."""

from __future__ import annotations

import streamlit as st

from digit_core import charts, images
from digit_core.errors import EmptyImageError
from digit_core.recognize import MODES
from pages.common import (
    CHART_CONFIG,
    MODE_LABELS,
    READING,
    STEP_WIDTH,
    recognizer,
    show_boxes,
    show_errors,
    show_headline,
    show_steps,
    through_app,
)
from pages.teach import teach
from pages.why import show_why

through_app(__file__)

TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff", "gif"]
USE_CAMERA = "upload.use_camera"

st.title("Upload")
st.write("Upload a photo or a scan of handwritten digits, or take one with a camera.")

reader = recognizer()
if reader is None:
    st.stop()

if st.toggle("Use the camera", key=USE_CAMERA):
    shot = st.camera_input("Photograph your digits", key="upload.camera")
else:
    shot = st.file_uploader("Choose a picture", type=TYPES, key="upload.file")
mode = st.radio(
    "Read as", MODES, format_func=MODE_LABELS.get, horizontal=True, key="upload.mode"
)

reading = None
if shot is None:
    st.info("Dark ink on light paper reads best; one row of digits at a time.")
else:
    with show_errors():
        reading = reader.recognize(images.decode(shot.getvalue()), mode=mode)

if reading is not None:
    photo, read = st.columns([3, 2], gap="large")
    with photo:
        show_boxes(reading)
    with read, st.container(key=READING):
        if reading.empty:
            st.warning(EmptyImageError.user_message, icon=":material/search_off:")
        else:
            show_headline(reading)
            teach(reading, key="upload.teach")
    for i, p in enumerate(reading.predictions):
        st.subheader(f"Digit {i + 1}: {p.digit}", anchor=False, divider="gray")
        crop, seen_input, bars = st.columns([1, 1, 2])
        crop.image(
            charts.for_display(p.steps[0].image, square=True),
            caption="its ink",
            width=STEP_WIDTH,
        )
        seen_input.image(
            charts.pixelated(p.input, charts.ENLARGE),
            caption="the 28x28 input",
            width=STEP_WIDTH,
        )
        bars.plotly_chart(
            charts.probability_bars([p.probabilities]),
            key=f"upload.chart.{i}",
            config=CHART_CONFIG,
        )
    show_why(reading, key="upload.why")
    seen = st.expander("What the model sees", key="upload.seen", on_change="rerun")
    if seen.open:
        with seen:
            show_steps(reading)

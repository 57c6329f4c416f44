"""Why this digit: a toggle under a reading that shows where the network looked.

Shared by the Draw and Upload pages (one call each); the maps come from
digit_core.explain. Not a page itself: app.py does not route to it.
"""

from __future__ import annotations

import streamlit as st

from digit_core import charts, explain
from digit_core.recognize import Reading
from pages.common import STEP_WIDTH, recognizer

PICTURE_WIDTH = 360  # px: the picture with its heat, beside the per-digit maps
HELP = (
    "Grad-CAM: the regions whose features argued for the digit read. "
    "Saliency: the pixels whose change would move that score most."
)


def show_why(reading: Reading | None, key: str) -> None:
    """A "Why this digit" toggle; when on, heatmaps over the picture and each input.

    key: the toggle's session-state key, named by page ("draw.why").
    """
    if reading is None or reading.empty:
        return
    if not st.toggle("Why this digit", key=key, help=HELP):
        return
    reader = recognizer()
    if reader is None:
        return
    predictions = reading.predictions
    inputs, digits = [p.input for p in predictions], [p.digit for p in predictions]
    found = explain.explain(reader.model, inputs, digits)
    picture, per_digit = st.columns([1, 1], gap="large")
    picture.image(
        explain.picture_overlay(reading, [e.gradcam for e in found]),
        caption="Grad-CAM over your picture: red argued most for the reading",
        width=PICTURE_WIDTH,
    )
    with per_digit:
        for i, (p, why) in enumerate(zip(predictions, found, strict=True)):
            st.image(
                [
                    charts.pixelated(explain.overlay(p.input, heat), charts.ENLARGE)
                    for heat in (why.gradcam, why.saliency)
                ],
                caption=[f"Grad-CAM for {p.digit}", f"saliency for {p.digit}"],
                width=STEP_WIDTH,
            )
            if not why.gradcam.any():
                st.caption(f"Digit {i + 1}: no region stood out for {p.digit}.")

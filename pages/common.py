"""What the pages share: the one Recognizer, error display and a reading's parts.

The only home of st.cache_resource and st.cache_data (STYLE.md). The Recognizer
is loaded once per process and shared by every session; it is thread-safe.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from digit_core import Recognizer, charts
from digit_core import model as model_lib
from digit_core.errors import DigitError
from digit_core.recognize import Prediction, Reading

log = logging.getLogger(__name__)

MODEL_ENV = "DIGITS_MODEL_PATH"  # a .keras file to use instead of the bundled model
READING = "reading"  # the reading's container; browser tests find .st-key-reading
STEP_WIDTH = 168  # px: the 28x28 input at 6 px a pixel (charts.ENLARGE)
CHART_CONFIG = {"displayModeBar": False}  # a plain chart on phones: no toolbar
MODE_LABELS = {"auto": "Auto", "single": "One digit", "multi": "A number"}


@contextmanager
def show_errors() -> Iterator[None]:
    """Show a DigitError as st.error(err.user_message); let anything else through.

    Other exceptions are bugs and must stay visible.
    """
    try:
        yield
    except DigitError as err:
        log.info("shown to the user: %r", err)
        st.error(err.user_message, icon=":material/error:")


def model_path() -> Path:
    """The model the app reads with: $DIGITS_MODEL_PATH, else the bundled one."""
    value = os.environ.get(MODEL_ENV)
    return Path(value) if value else model_lib.BUNDLED_MODEL


@st.cache_resource(show_spinner="Loading the digit model...")
def _load(path: str) -> Recognizer:
    """Import Keras and load the model, once per process and path."""
    recognizer = Recognizer.load(path)
    charts.probability_bars([[0.1] * 10]).to_json()  # import plotly's validators now
    return recognizer


def recognizer() -> Recognizer | None:
    """The shared Recognizer; None, with the error shown, when it cannot load."""
    with show_errors():
        return _load(str(model_path()))
    return None


def show_model() -> None:
    """Sidebar: which model reads the digits, and how well it reads MNIST."""
    with st.sidebar:
        try:
            active = _load(str(model_path()))
        except DigitError:
            st.caption("No model loaded.")
            return
        card = active.card
        st.caption("Active model")
        if card is None:
            name = active.model_path.name if active.model_path else "model"
            st.markdown(f"**{name}** (no model card)")
            return
        st.markdown(f"**{card.name}** · {card.preset} · {card.params:,} parameters")
        st.metric("MNIST test accuracy", f"{card.test_accuracy:.2%}")


def _label(index: int, count: int) -> str:
    return f"digit {index + 1}" if count > 1 else "the digit"


def show_headline(reading: Reading) -> None:
    """The digits read, large, then how sure the model is; doubts get the top two.

    The first text is the digits themselves, so a container's text starts with them.
    """
    predictions = reading.predictions
    st.title(reading.digits, anchor=False)
    if len(predictions) == 1:
        st.markdown(f"**{predictions[0].confidence:.0%}** confident")
    else:
        each = ", ".join(f"{p.digit} **{p.confidence:.0%}**" for p in predictions)
        st.markdown(f"{len(predictions)} digits, confidence: {each}")
    for i, p in enumerate(predictions):
        if p.unsure:
            (first, p1), (second, p2) = p.top2
            st.warning(
                f"Not sure about {_label(i, len(predictions))}: most like "
                f"**{first}** ({p1:.0%}), maybe **{second}** ({p2:.0%}).",
                icon=":material/help:",
            )


def show_boxes(reading: Reading, width: int | str = "content") -> None:
    """The picture with each digit's box and reading drawn over it."""
    boxes = [p.box for p in reading.predictions]
    labels = [str(p.digit) for p in reading.predictions]
    picture = charts.with_boxes(reading.steps[0].image, boxes, labels, reading.size)
    st.image(picture, caption="Where each digit was found", width=width)


def show_probabilities(predictions: tuple[Prediction, ...], key: str) -> None:
    """One bar chart of the ten probabilities, one group of bars per digit."""
    names = [f"{i + 1}: {p.digit}" for i, p in enumerate(predictions)]
    figure = charts.probability_bars([p.probabilities for p in predictions], names)
    st.plotly_chart(figure, key=key, config=CHART_CONFIG)


def show_steps(reading: Reading) -> None:
    """The pipeline, picture first, down to each digit's pixelated 28x28 input."""
    st.caption("The whole picture")
    st.image(
        [charts.for_display(step.image) for step in reading.steps],
        caption=[f"{step.name}: {step.caption}" for step in reading.steps],
        width=STEP_WIDTH,
    )
    for i, p in enumerate(reading.predictions):
        st.caption(f"Digit {i + 1}, read as {p.digit}")
        st.image(
            [charts.for_display(step.image, square=True) for step in p.steps],
            caption=[f"{step.name}: {step.caption}" for step in p.steps],
            width=STEP_WIDTH,
        )

"""What the pages share: the one Recognizer, error display and a reading's parts.

The only home of st.cache_resource and st.cache_data (STYLE.md). The Recognizer
is loaded once per process and shared by every session; it is thread-safe. It
reads with the active model of the runs folder (digit_core.runs), chosen on the
Train page, or with $DIGITS_MODEL_PATH when that is set.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas  # noqa: F401  (see below)
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from digit_core import Recognizer, canvas, charts, explore
from digit_core import model as model_lib
from digit_core import runs as runs_lib
from digit_core.data import ENV_VAR as MNIST_ENV
from digit_core.data import Mnist, load_mnist
from digit_core.errors import DigitError, ModelLoadError
from digit_core.jobs import JobManager
from digit_core.recognize import Prediction, Reading

log = logging.getLogger(__name__)
# pandas is imported above, once, before any session runs: st.dataframe imports
# it lazily, and plotly in another session's thread then found it half-imported
# ("partially initialized module 'pandas' has no attribute 'Series"), measured
# with two tabs on the Train page.

MODEL_ENV = "DIGITS_MODEL_PATH"  # a .keras file to use instead of the bundled model
READING = "reading"  # the reading's container; browser tests find .st-key-reading
STEP_WIDTH = 168  # px: the 28x28 input at 6 px a pixel (charts.ENLARGE)
CHART_CONFIG = {"displayModeBar": False}  # a plain chart on phones: no toolbar
MODE_LABELS = {"auto": "Auto", "single": "One digit", "multi": "A number"}


ROUTED = "app.routed"  # set by app.py on every run it makes
WANTED = "app.wanted"  # a page asked for before app.py had run in this session
ROOT = Path(__file__).resolve().parent.parent


def keep_keras_session() -> None:
    """Stop Streamlit from clearing the Keras session after every script run.

    Streamlit calls keras.backend.clear_session() when a run ends (a guard
    from TensorFlow 1's graph days). With TensorFlow 2 that buys nothing and
    costs a full gc.collect() plus TensorFlow's kernel cache: measured here,
    230-320 ms holding the GIL per run (a stroke, a click, each second of a
    Train page's polling), and 45-70 ms more on the next model call. Every
    session waits for it, so it alone broke the class-size latency target.
    The hook is private; if Streamlit renames it, this does nothing.
    """
    from streamlit.runtime.scriptrunner import script_runner

    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = _keep_state


def _keep_state() -> None:
    """Streamlit's end-of-run cleanup, minus Keras: nothing else applies here."""


def through_app(page_file: str) -> None:
    """Send a page that runs without app.py back through it, to the same page.

    On a freshly started server a deep link such as /train runs pages/train.py
    on its own (Streamlit's pages/ folder convention) before app.py has called
    st.navigation: no sidebar menu, no model panel. Going through app.py fixes
    that; AppTest runs of a page file on its own are left alone.
    """
    ctx = get_script_run_ctx()
    if ctx is None or Path(ctx.main_script_path).name != "app.py":
        return
    if ROUTED not in st.session_state:
        st.session_state[WANTED] = (
            Path(page_file).resolve().relative_to(ROOT).as_posix()
        )
        st.switch_page("app.py")


def drawing_pad(key: str, size: int, pen: int) -> np.ndarray | None:
    """A square canvas, white ink on black; its picture as RGBA, or None without ink.

    Each finished stroke reruns the page once (update_streamlit). The component
    is imported here: it registers itself on import, which needs a script run.
    """
    from streamlit_drawable_canvas import st_canvas

    result = st_canvas(
        stroke_width=pen,
        stroke_color=canvas.STROKE_COLOR,
        background_color=canvas.BACKGROUND_COLOR,
        height=size,
        width=size,
        update_streamlit=True,
        return_image_data=True,
        key=key,
    )
    return canvas.drawing(result.image_data)


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


def _chosen() -> runs_lib.Active:
    """$DIGITS_MODEL_PATH when set, else the runs folder's active model."""
    value = os.environ.get(MODEL_ENV)
    return runs_lib.Active(Path(value), None) if value else run_store().active()


def model_path() -> Path:
    """The model the app reads with: $DIGITS_MODEL_PATH, else the active one."""
    return _chosen().path


@st.cache_resource(show_spinner="Loading the digit model...", max_entries=4)
def _load(path: str) -> Recognizer:
    """Import Keras and load the model, once per process and path.

    Run files are never rewritten under the same path, so a path names one model.
    """
    recognizer = Recognizer.load(path)
    charts.probability_bars([[0.1] * 10]).to_json()  # import plotly's validators now
    return recognizer


def _active_recognizer(warn: bool) -> Recognizer:
    """The chosen model's Recognizer; the bundled one if the chosen run is broken.

    warn: show st.warning when falling back (the page does; the sidebar not again).
    """
    chosen = _chosen()
    try:
        reader = _load(str(chosen.path))
    except ModelLoadError:
        if chosen.run_id is None:
            raise  # the bundled model or $DIGITS_MODEL_PATH: nothing to fall back to
        log.warning("active run %s does not load; using the bundled model", chosen)
        chosen = runs_lib.Active(
            model_lib.BUNDLED_MODEL, None, runs_lib.missing_warning(chosen.run_id)
        )
        reader = _load(str(chosen.path))
    if warn and chosen.warning:
        st.warning(chosen.warning, icon=":material/warning:")
    return reader


def recognizer() -> Recognizer | None:
    """The shared Recognizer; None, with the error shown, when it cannot load."""
    with show_errors():
        return _active_recognizer(warn=True)
    return None


@st.cache_resource
def _run_store(root: str) -> runs_lib.RunStore:
    return runs_lib.RunStore(root)


def run_store() -> runs_lib.RunStore:
    """The runs folder ($DIGITS_RUNS_DIR, else per user), one object per process."""
    return _run_store(str(runs_lib.runs_root()))


@st.cache_resource
def _job_manager(root: str) -> JobManager:
    return JobManager(_run_store(root))


def job_manager() -> JobManager:
    """The process's one JobManager: every session sees and stops the same job."""
    return _job_manager(str(runs_lib.runs_root()))


@st.cache_resource(show_spinner="Loading MNIST...")
def _mnist(env_path: str) -> Mnist:
    """Read-only arrays (55 MB) shared by all sessions: cache_data would copy them."""
    return load_mnist(env_path or None)


def mnist() -> Mnist:
    """MNIST found as data.load_mnist finds it; DatasetNotFoundError when nowhere."""
    return _mnist(os.environ.get(MNIST_ENV, ""))


@st.cache_data(show_spinner="Finding the hardest examples...", max_entries=100)
def _hardest(
    model: str, env_path: str, split: str, digit: int, count: int
) -> tuple[explore.Hard, ...]:
    images, labels = explore.split(_mnist(env_path), split)
    return explore.hardest(_load(model).predict, images, labels, digit, count)


def hardest(split: str, digit: int, count: int) -> tuple[explore.Hard, ...]:
    """explore.hardest by the active model, once per model, MNIST file and class."""
    active = str(_active_recognizer(warn=False).model_path)
    return _hardest(active, os.environ.get(MNIST_ENV, ""), split, digit, count)


def show_model() -> None:
    """Sidebar: which model reads the digits, and how well it reads MNIST."""
    with st.sidebar:
        try:
            active = _active_recognizer(warn=False)
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

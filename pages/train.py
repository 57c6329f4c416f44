"""Train: retrain the digit network, watch it learn, and choose the model that reads.

Training runs in the process's one JobManager (pages/common.py), in a worker
thread, never in a script run: every tab sees the same job, and leaving or
reloading the page neither stops nor repeats it. A fragment polls the job every
POLL_SECONDS while it runs and stops polling when it ends.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from numpy.typing import NDArray
from streamlit.delta_generator import DeltaGenerator
from streamlit.elements.plotly_chart import PlotlyState

from digit_core import charts, evaluation, samples
from digit_core import data as data_lib
from digit_core.data import Mnist
from digit_core.errors import DatasetNotFoundError
from digit_core.jobs import JobStatus
from digit_core.model import PRESETS
from digit_core.runs import Run
from digit_core.train import TrainConfig
from pages.common import (
    CHART_CONFIG,
    job_manager,
    mnist,
    run_store,
    show_errors,
    through_app,
)

through_app(__file__)


RUN = "train.run"  # the run whose results and actions are shown
SHOW = "train.show_run"  # a run to select on the next full run (set by the fragment)
NORMALIZED = "train.normalized"
POLL_SECONDS = 1.5  # the live charts refresh this often while training (goal: 2 s)
GALLERY_SCALE = 4  # 28x28 test images enlarged to 112x112 px, pixels kept
GALLERY_WIDTH = 96  # px on screen: six in a row beside the matrix on a laptop
GALLERY_SIZE = 24  # images behind one confusion cell
MISTAKES = 12  # most confidently wrong test images
BATCH_SIZES = (32, 64, 128, 256, 512)
DEFAULTS = TrainConfig()  # the fast preset: what the one button trains


def dataset() -> Mnist | None:
    """MNIST, or None after saying exactly how to provide it."""
    try:
        return mnist()
    except DatasetNotFoundError as err:
        st.error(err.user_message, icon=":material/dataset:")
        st.markdown("Any one of these works; then reload this page:")
        st.code(
            f"# 1. copy the file into the project\n"
            f"cp /path/to/mnist.npz {data_lib.LOCAL_PATH}\n"
            f"# 2. or point to it, then restart the app\n"
            f"export {data_lib.ENV_VAR}=/path/to/mnist.npz\n"
            f"# 3. or, with internet, let Keras download it (11 MB)\n"
            f"python -c 'import keras; keras.datasets.mnist.load_data()'",
            language="bash",
        )
        st.caption(f"What was tried: {err}")
        return None


def advanced_settings() -> TrainConfig:
    """The advanced section's recipe; untouched, it is the fast preset."""
    with st.expander("Advanced settings", icon=":material/tune:"):
        left, right = st.columns(2)
        preset = left.selectbox(
            "Architecture", PRESETS, index=PRESETS.index(DEFAULTS.preset),
            key="train.preset",
        )  # fmt: skip
        epochs = left.number_input(
            "Epochs", 1, 100, DEFAULTS.epochs, key="train.epochs"
        )
        batch_size = left.select_slider(
            "Batch size", BATCH_SIZES, DEFAULTS.batch_size, key="train.batch_size"
        )
        learning_rate = left.number_input(
            "Learning rate (peak)", 1e-5, 0.1, DEFAULTS.learning_rate, step=1e-4,
            format="%.4f", key="train.learning_rate",
        )  # fmt: skip
        validation_split = right.slider(
            "Validation split", 0.0, 0.3, DEFAULTS.validation_split, step=0.01,
            key="train.validation_split",
            help="Share of the training images held out to pick the best epoch.",
        )  # fmt: skip
        train_size = right.number_input(
            "Training images", 100, 60_000, value=None, step=1000,
            placeholder="all of them", key="train.train_size",
            help="Fewer images train faster, for a quick demo.",
        )  # fmt: skip
        seed = right.number_input("Seed", 0, 2**31 - 1, DEFAULTS.seed, key="train.seed")
        augment = right.checkbox(
            "Augmentation", DEFAULTS.augment, key="train.augment",
            help="Distort training images: slower to learn, better on real "
            "handwriting.",
        )  # fmt: skip
        my_digits, weight = my_digits_settings(right)
    return TrainConfig(
        preset=preset,
        epochs=int(epochs),
        batch_size=int(batch_size),
        learning_rate=float(learning_rate),
        validation_split=float(validation_split),
        augment=augment,
        train_size=int(train_size) if train_size is not None else None,
        seed=int(seed),
        my_digits=my_digits,
        my_digits_weight=weight,
    )


def my_digits_settings(column: DeltaGenerator) -> tuple[str | None, float]:
    """The "my digits" store to mix in and its weight; (None, default) when unused."""
    path = samples.store_path()
    use = column.checkbox(
        "Include my digits", False, key="train.my_digits",
        disabled=not path.is_file(),
        help=f"Train on your saved digits too ({path})." if path.is_file()
        else "Save some digits of your own first.",
    )  # fmt: skip
    weight = column.number_input(
        "Weight of my digits", 0.0, 1000.0, DEFAULTS.my_digits_weight, step=1.0,
        key="train.my_digits_weight", disabled=not use,
        help="Each of your digits is trained on this many times an epoch.",
    )  # fmt: skip
    return (str(path) if use else None), float(weight)


def describe(cfg: TrainConfig) -> str:
    images = f"{cfg.train_size:,} images" if cfg.train_size else "all images"
    epochs = f"{cfg.epochs} epoch{'s' if cfg.epochs > 1 else ''}"
    return f"{cfg.preset} preset · {epochs} · {images}"


def start_button(cfg: TrainConfig, data: Mnist | None, busy: bool) -> None:
    """The one button: start training `cfg` in the shared job manager."""
    clicked = st.button(
        "Train the model",
        type="primary",
        icon=":material/model_training:",
        disabled=data is None or busy,
        key="train.start",
        help="Training runs on the server; you can leave this page meanwhile.",
    )
    st.caption(describe(cfg))
    if clicked:
        with show_errors():
            job_manager().start(cfg)
            st.rerun()  # from the top: the button greys out, the fragment polls


def show_job(polling: bool) -> None:
    """Progress bar, Stop and the live curves; the fragment around it polls."""
    now = job_manager().latest()
    if now is None:
        return
    if now.state == "failed":
        st.error(f"Training failed. {now.error}", icon=":material/error:")
    else:
        st.progress(now.fraction_done, text=now.message)
    if now.running:
        st.button(
            "Stop after this batch",
            icon=":material/stop:",
            key="train.stop",
            on_click=job_manager().stop,
            disabled=now.stop_requested,
        )
    figure = charts.learning_curves(now.history, now.curve)
    st.plotly_chart(figure, key="train.curves", config=CHART_CONFIG)
    if polling and not now.running:
        st.session_state[SHOW] = now.run_id
        st.rerun()  # just ended: one full run shows the new run, and stops polling


def choose_run(runs: tuple[Run, ...]) -> Run:
    """The run to show and act on: chosen in a select box, newest by default."""
    ids = [run.id for run in runs]
    shown = st.session_state.pop(SHOW, None)
    if shown in ids:
        st.session_state[RUN] = shown
    elif st.session_state.get(RUN) not in ids:
        st.session_state.pop(RUN, None)  # deleted, here or in another tab
    active = run_store().active().run_id
    by_id = {run.id: run for run in runs}

    def label(run_id: str) -> str:
        run = by_id[run_id]
        mark = " · reads your digits" if run_id == active else ""
        return f"{run_id} · {run.card.test_accuracy:.2%}{mark}"

    chosen = st.selectbox("Model", ids, format_func=label, key=RUN)
    return by_id[chosen]


def runs_table(runs: tuple[Run, ...], active: str | None) -> None:
    """Date, preset, parameters, test accuracy and duration of every run."""
    rows = [
        {
            "run": run.id,
            "date": run.created.astimezone().strftime("%Y-%m-%d %H:%M"),
            "preset": run.card.preset,
            "epochs": len(run.card.history),
            "batch": run.card.training.get("batch_size"),
            "learning rate": run.card.training.get("learning_rate"),
            "augment": bool(run.card.training.get("augment")),
            "train images": run.card.training.get("train_images"),
            "test accuracy": f"{run.card.test_accuracy:.2%}",
            "duration": f"{run.seconds:.0f} s",
            "status": ("reads your digits" if run.id == active else "")
            + (" stopped early" if run.stopped else ""),
        }
        for run in runs
    ]
    st.dataframe(rows, hide_index=True, key="train.table")


def activate(run_id: str) -> None:
    with show_errors():
        run_store().activate(run_id)
        st.toast(f"Draw and Upload now read with {run_id}.", icon=":material/check:")


def restore_bundled() -> None:
    run_store().restore_bundled()
    st.toast("Draw and Upload read with the bundled model again.")


def delete(run_id: str) -> None:
    with show_errors():
        run_store().delete(run_id)
        st.toast(f"Deleted {run_id}.", icon=":material/delete:")


def run_actions(run: Run, active: str | None) -> None:
    """Use, restore, download and delete; callbacks, so the sidebar sees the change."""
    use, bundled, download, remove = st.columns(4)
    use.button(
        "Use this model", key="train.use", type="primary", icon=":material/check:",
        disabled=run.id == active, on_click=activate, args=(run.id,),
    )  # fmt: skip
    bundled.button(
        "Restore bundled model", key="train.bundled", icon=":material/restore:",
        disabled=active is None, on_click=restore_bundled,
    )  # fmt: skip
    download.download_button(
        "Download .keras", data=run.model_path.read_bytes, file_name=f"{run.id}.keras",
        mime="application/octet-stream", icon=":material/download:",
        on_click="ignore", key="train.download",
    )  # fmt: skip
    with remove.popover("Delete", icon=":material/delete:"):
        st.write(f"Delete {run.id} and its files for good?")
        st.button(
            "Delete", key="train.delete", type="primary", on_click=delete,
            args=(run.id,),
        )  # fmt: skip


def gallery(
    data: Mnist,
    probabilities: NDArray[np.float32],
    indices: NDArray[np.int64],
    title: str,
) -> None:
    """MNIST test images, enlarged, each captioned with what was read and how sure."""
    if len(indices) == 0:
        st.caption(f"{title}: no images.")
        return
    st.caption(title)
    st.image(
        [charts.pixelated(data.x_test[i], GALLERY_SCALE) for i in indices],
        caption=[
            f"true {data.y_test[i]} · {charts.probability_caption(probabilities[i])}"
            for i in indices
        ],
        width=GALLERY_WIDTH,
    )


def clicked_cell(event: PlotlyState | None) -> tuple[int, int] | None:
    """(true, read) of the clicked confusion cell, or None before a click."""
    points = event.selection.points if event is not None else []
    if not points:
        return None
    return int(points[0]["y"]), int(points[0]["x"])


def worst_cell(confusion: tuple[tuple[int, ...], ...]) -> tuple[int, int]:
    """The most frequent mistake, (true, read): shown before any click."""
    return max(
        ((t, p) for t in range(10) for p in range(10) if t != p),
        key=lambda cell: confusion[cell[0]][cell[1]],
    )


def results(run: Run, data: Mnist | None) -> None:
    """How the run reads the MNIST test set: figures, matrix, galleries."""
    card = run.card
    st.subheader(f"How {run.id} reads the MNIST test set", anchor=False)
    accuracy, epochs, seconds = st.columns(3)
    accuracy.metric("MNIST test accuracy", f"{card.test_accuracy:.2%}")
    epochs.metric("Epochs", len(card.history))
    seconds.metric("Training time", f"{run.seconds:.0f} s")
    if run.stopped:
        st.caption("Stopped early: this is the best model before the stop.")
    matrix, cell_gallery = st.columns([3, 2], gap="large")
    with matrix:
        normalized = st.toggle("Show shares of each true digit", key=NORMALIZED)
        event = st.plotly_chart(
            charts.confusion_matrix(card.confusion_matrix, normalized),
            key=f"train.matrix.{run.id}",
            on_select="rerun",
            selection_mode="points",
            config=CHART_CONFIG,
        )
    if data is None:
        cell_gallery.caption("The galleries need MNIST (see above).")
        return
    with show_errors():
        probabilities = run_store().probabilities(run.id)
        scores = evaluation.score(probabilities, data.y_test)
        cell = clicked_cell(event)
        with cell_gallery:
            if cell is None:
                cell = worst_cell(scores.confusion)
                st.caption("Click a cell to see its images. The most common mistake:")
            true, read = cell
            indices = evaluation.cell_examples(
                probabilities, data.y_test, true, read, GALLERY_SIZE
            )
            count = scores.confusion[true][read]
            with st.container(key="train.cell"):
                gallery(
                    data, probabilities, indices,
                    f"True {true}, read as {read}: {count} images",
                )  # fmt: skip
        st.markdown("**Precision and recall of each digit**")
        st.plotly_chart(
            charts.precision_recall(scores.precision, scores.recall),
            key="train.precision_recall",
            config=CHART_CONFIG,
        )
        mistakes = evaluation.confident_mistakes(probabilities, data.y_test, MISTAKES)
        gallery(data, probabilities, mistakes, "The most confidently wrong")


st.title("Train")
st.write(
    "Retrain the digit network on MNIST with one click, watch it learn, and "
    "choose which model reads your digits on the Draw and Upload pages."
)

data = dataset()
cfg = advanced_settings()
status: JobStatus | None = job_manager().latest()
polling = status is not None and status.running
start_button(cfg, data, busy=polling)


@st.fragment(run_every=POLL_SECONDS if polling else None)
def live_job() -> None:
    show_job(polling)


live_job()

runs = run_store().list()
st.header("Models", anchor=False)
if not runs:
    st.info(
        "No trained models yet: the bundled model reads your digits.",
        icon=":material/info:",
    )
    if run_store().active().warning:  # the chosen run was removed by hand
        st.button(
            "Restore bundled model", key="train.bundled", on_click=restore_bundled
        )
else:
    active = run_store().active().run_id
    runs_table(runs, active)
    run = choose_run(runs)
    run_actions(run, active)
    results(run, data)

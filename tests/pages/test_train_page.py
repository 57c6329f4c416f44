"""pages/train.py: one tiny training through the page, then the results and runs.

One training (fast preset, 2000 images, one epoch, set in the advanced section)
serves the whole module; tests that change runs work on a copy of its folder.
The runs folder is always a tmp_path, given through DIGITS_RUNS_DIR.
"""

from __future__ import annotations

import shutil
import time
import zipfile

import pytest
from page_kit import canvas_state, page

from digit_core import model as model_lib
from digit_core.errors import DatasetNotFoundError
from digit_core.runs import ENV_VAR as RUNS_ENV
from digit_core.runs import MODEL_FILE, RunStore
from digit_core.train import TrainConfig
from pages.common import READING, job_manager

WAIT = 300  # s for the tiny training on a busy 2-core machine


@pytest.fixture(autouse=True)
def mnist_env(mnist, monkeypatch):
    """The page finds MNIST where the test suite does (fails under CI if missing)."""
    monkeypatch.setenv("DIGITS_MNIST_PATH", mnist.source)


def runs_in(monkeypatch, root) -> RunStore:
    monkeypatch.setenv(RUNS_ENV, str(root))
    return RunStore(root)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, mnist):
    """The page after one click on Train (advanced: 2000 images, 1 epoch)."""
    root = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(RUNS_ENV, str(root))
        patch.setenv("DIGITS_MNIST_PATH", mnist.source)
        at = page("pages/train.py").run()
        assert not at.exception
        at.number_input(key="train.train_size").set_value(2000)
        at.number_input(key="train.epochs").set_value(1)
        at.button(key="train.start").click().run()
        assert not at.exception and not at.error
        running = job_manager().latest()
        seen_running = at.button(key="train.start").disabled, len(at.get("progress"))
        deadline = time.monotonic() + WAIT
        while job_manager().latest().running and time.monotonic() < deadline:
            time.sleep(0.5)
        at.run()
        assert not at.exception
        yield at, root, running, seen_running


def test_the_page_shows_the_one_button_and_no_runs(monkeypatch, tmp_path):
    runs_in(monkeypatch, tmp_path)
    at = page("pages/train.py").run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Train"
    start = at.button(key="train.start")
    assert start.label == "Train the model" and not start.disabled
    assert (
        f"fast preset · {TrainConfig().epochs} epochs · all images"
        in at.caption[0].value
    )
    assert "No trained models yet" in at.info[0].value


def test_missing_mnist_says_how_to_provide_it(monkeypatch, tmp_path):
    runs_in(monkeypatch, tmp_path)
    monkeypatch.setenv("DIGITS_MNIST_PATH", str(tmp_path / "missing.npz"))
    at = page("pages/train.py").run()
    assert not at.exception
    assert at.error[0].value == DatasetNotFoundError.user_message
    howto = at.code[0].value
    assert "DIGITS_MNIST_PATH" in howto and "data/mnist.npz" in howto
    assert "load_data()" in howto
    assert at.button(key="train.start").disabled


def test_the_advanced_settings_reach_the_job(trained):
    _, _, running, (button_disabled, bars) = trained
    cfg = running.config
    assert (cfg.preset, cfg.epochs, cfg.train_size) == ("fast", 1, 2000)
    assert cfg.batch_size == TrainConfig().batch_size and cfg.my_digits is None
    assert button_disabled and bars == 1  # while it ran: no second start, a bar


def test_after_training_the_results_are_shown(trained):
    at, root, running, _ = trained
    status = job_manager().latest()
    assert status.id == running.id and status.state == "finished"
    assert f"{status.test_accuracy:.2%}" in at.get("progress")[0].proto.text
    assert at.selectbox(key="train.run").value == status.run_id
    assert at.metric[0].value == f"{status.test_accuracy:.2%}"
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # curves, confusion matrix, precision and recall
    cell = at.get_by_key("train.cell")
    assert cell.caption[0].value.startswith("True ")
    assert len(at.image) == 2  # the cell's gallery, the confident mistakes
    assert "fast" in at.dataframe[0].value["preset"].tolist()


def test_the_normalised_toggle_keeps_the_page_working(trained):
    at, *_ = trained
    at.toggle(key="train.normalized").set_value(True).run()
    assert not at.exception and len(at.get("plotly_chart")) == 3
    at.toggle(key="train.normalized").set_value(False).run()


@pytest.fixture
def copied(trained, monkeypatch, tmp_path) -> tuple[RunStore, str]:
    """A runs folder of its own holding the trained run."""
    _, root, _, _ = trained
    (run_id,) = [p.name for p in root.iterdir() if not p.name.startswith(".")]
    shutil.copytree(root / run_id, tmp_path / run_id)
    return runs_in(monkeypatch, tmp_path), run_id


def test_use_this_model_switches_draw_and_restore_switches_back(copied, digits):
    store, run_id = copied
    at = page("pages/train.py").run()
    at.button(key="train.use").click().run()
    assert not at.exception
    assert store.active().run_id == run_id
    assert at.button(key="train.use").disabled

    draw = page("pages/draw.py").run()
    draw.session_state["draw.canvas"] = canvas_state(digits[1])
    draw.run()
    assert not draw.exception
    # no fallback warning (a tiny run may well be unsure of the digit: that is fine)
    assert all(w.icon != ":material/warning:" for w in draw.warning)
    assert draw.get_by_key(READING).title  # read with the new model

    at.button(key="train.bundled").click().run()
    assert store.active().path == model_lib.BUNDLED_MODEL


def test_delete_removes_the_run(copied):
    store, run_id = copied
    at = page("pages/train.py").run()
    at.button(key="train.use").click().run()
    at.button(key="train.delete").click().run()
    assert not at.exception
    assert store.list() == () and store.active().run_id is None
    assert "No trained models yet" in at.info[0].value


def test_a_damaged_active_model_warns_and_reads_with_the_bundled_one(copied, digits):
    store, run_id = copied
    store.activate(run_id)
    (store.root / run_id / MODEL_FILE).write_bytes(b"not a zip any more")
    draw = page("pages/draw.py").run()
    draw.session_state["draw.canvas"] = canvas_state(digits[7])
    draw.run()
    assert not draw.exception and not draw.error
    assert run_id in draw.warning[0].value and "bundled" in draw.warning[0].value
    assert draw.get_by_key(READING).title[0].value == "7"


def test_the_download_offers_the_keras_file(copied):
    store, run_id = copied
    at = page("pages/train.py").run()
    (button,) = at.get("download_button")
    assert button.proto.label == "Download .keras"
    assert zipfile.is_zipfile(store.get(run_id).model_path)  # what it hands out

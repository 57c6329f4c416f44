"""digit_core.runs: saving, listing, deleting runs and the active-model pointer.

Runs here are untrained fast networks with made-up cards: the bookkeeping, not
the learning. Every runs folder is a tmp_path.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from digit_core import model as model_lib
from digit_core import runs, userdata
from digit_core.errors import RunNotFoundError
from digit_core.model import ModelCard
from digit_core.runs import ACTIVE_FILE, MODEL_FILE, RunStore
from digit_core.train import TrainResult

START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def net():
    return model_lib.build("fast")


def result(net, name: str, minutes: int = 0, stopped: bool = False) -> TrainResult:
    """A TrainResult as train() returns it, `minutes` after START."""
    confusion = np.diag([1000] * 10).tolist()
    card = ModelCard(
        name=name,
        preset="fast",
        params=int(net.count_params()),
        architecture=model_lib.layer_table(net),
        training={"epochs": 1, "batch_size": 128, "seconds": 12.5},
        dataset={"source": "test", "sha256": ""},
        test_accuracy=0.9,
        per_class_accuracy=(0.9,) * 10,
        confusion_matrix=tuple(map(tuple, confusion)),
        history=(),
        created=(START + timedelta(minutes=minutes)).isoformat(timespec="seconds"),
    )
    probabilities = np.full((10_000, 10), 0.1, np.float32)
    return TrainResult(net, card, probabilities, stopped=stopped)


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "runs")


def test_a_saved_run_has_its_model_card_and_probabilities(store, net):
    run = store.save(result(net, "fast-a", stopped=True))
    assert run.id == "fast-a" and run.folder.parent == store.root
    assert {p.name for p in run.folder.iterdir()} == {
        "model.keras", "model.json", "probabilities.npy", "run.json",
    }  # fmt: skip
    assert run.stopped and run.seconds == 12.5
    assert run.card.file_size == run.model_path.stat().st_size > 0
    assert store.probabilities(run.id).shape == (10_000, 10)
    assert model_lib.load(run.model_path).count_params() == net.count_params()
    assert not list(store.root.glob(".*"))  # no staging folder left behind


def test_runs_are_listed_newest_first_with_unique_ids(store, net):
    for minutes in (0, 5, 2):
        store.save(result(net, "fast", minutes))
    listed = store.list()
    assert [run.id for run in listed] == ["fast-2", "fast-3", "fast"]
    assert [run.created for run in listed] == sorted(
        (run.created for run in listed), reverse=True
    )


def test_unreadable_folders_are_left_out_of_the_list(store, net):
    store.save(result(net, "good"))
    (store.root / "empty").mkdir()
    (store.root / "no-model").mkdir()
    (store.root / "no-model" / "model.json").write_text("{}")
    assert [run.id for run in store.list()] == ["good"]
    with pytest.raises(RunNotFoundError):
        store.get("empty")


def test_the_bundled_model_is_active_until_a_run_is_chosen(store, net):
    assert store.active() == runs.Active(model_lib.BUNDLED_MODEL, None)
    run = store.save(result(net, "mine"))
    assert store.active().run_id is None  # saving does not switch
    store.activate(run.id)
    assert store.active() == runs.Active(run.model_path, "mine")
    assert json.loads((store.root / ACTIVE_FILE).read_text()) == {"run": "mine"}
    assert RunStore(store.root).active().run_id == "mine"  # another process, later
    store.restore_bundled()
    assert store.active().path == model_lib.BUNDLED_MODEL
    assert run.model_path.is_file()  # restoring keeps the run


def test_a_missing_active_model_falls_back_with_a_warning(store, net):
    run = store.save(result(net, "gone"))
    store.activate(run.id)
    (run.folder / MODEL_FILE).unlink()
    active = store.active()
    assert active.path == model_lib.BUNDLED_MODEL and active.run_id is None
    assert "gone" in active.warning and "bundled" in active.warning


@pytest.mark.parametrize(
    "pointer", ["{not json", '{"run": 3}', "[]", '{"run": "../x"}']
)
def test_a_damaged_pointer_means_the_bundled_model(store, pointer):
    store.root.mkdir(parents=True)
    (store.root / ACTIVE_FILE).write_text(pointer)
    assert store.active().path == model_lib.BUNDLED_MODEL


def test_deleting_the_active_run_restores_the_bundled_model(store, net):
    keep = store.save(result(net, "keep"))
    doomed = store.save(result(net, "doomed", 1))
    store.activate(doomed.id)
    store.delete(doomed.id)
    assert not doomed.folder.exists()
    assert store.active().run_id is None
    assert [run.id for run in store.list()] == [keep.id]
    with pytest.raises(RunNotFoundError):
        store.delete(doomed.id)
    with pytest.raises(RunNotFoundError):
        store.activate(doomed.id)


@pytest.mark.parametrize("bad", ["../models", "a/b", "", ".hidden", "/etc"])
def test_run_ids_cannot_leave_the_runs_folder(store, bad):
    with pytest.raises(RunNotFoundError):
        store.get(bad)
    with pytest.raises(RunNotFoundError):
        store.delete(bad)


def test_card_names_become_safe_folder_names(store, net):
    run = store.save(result(net, "../my run/1"))
    assert run.folder.parent == store.root and "/" not in run.id


def test_saving_never_touches_the_bundled_model(store, net):
    before = model_lib.BUNDLED_MODEL.stat().st_mtime_ns
    run = store.save(result(net, "digits"))
    store.activate(run.id)
    assert model_lib.BUNDLED_MODEL.stat().st_mtime_ns == before
    assert model_lib.BUNDLED_MODEL.parent not in run.folder.parents


def test_the_runs_folder_is_the_env_var_or_a_per_user_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(runs.ENV_VAR, str(tmp_path / "elsewhere"))
    assert RunStore().root == tmp_path / "elsewhere"
    monkeypatch.delenv(runs.ENV_VAR)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(userdata.sys, "platform", "linux")
    assert runs.runs_root() == tmp_path / "data" / "digit-studio" / "runs"
    monkeypatch.setattr(userdata.sys, "platform", "darwin")
    assert runs.default_root().parts[-4:] == (
        "Library", "Application Support", "digit-studio", "runs",
    )  # fmt: skip
    root = Path(__file__).resolve().parents[1]
    assert root not in runs.default_root().parents  # never inside the checkout


def test_importing_runs_and_jobs_does_not_import_streamlit_or_keras():
    import subprocess
    import sys

    code = (
        "import sys, digit_core.runs, digit_core.jobs; "
        "print('streamlit' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert out.stdout.split() == ["False", "False"]


def test_a_run_keeps_its_card_unchanged(store, net):
    made = result(net, "card")
    run = store.save(made)
    assert replace(run.card, file_size=0, keras_version="") == made.card

"""digit_core.jobs: one job at a time, live status, stop, crash, and a restart.

Trainings are the fast preset on 2000 images for an epoch: the machinery, not
the accuracy. Every runs folder is a tmp_path; models/ is never written.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from digit_core import Recognizer
from digit_core import model as model_lib
from digit_core.errors import DatasetNotFoundError, JobBusyError, ModelLoadError
from digit_core.jobs import JobManager, JobStatus
from digit_core.runs import RunStore
from digit_core.train import TrainConfig

TINY = TrainConfig(preset="fast", epochs=1, train_size=2000, validation_split=0.01)
WAIT = 300  # s: a tiny job takes ~20 s on a busy 2-core machine


def wait_for(manager: JobManager, ready, timeout: float = WAIT) -> JobStatus:
    """Poll the manager as the page does until `ready(status)`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = manager.latest()
        if status is not None and ready(status):
            return status
        time.sleep(0.05)
    pytest.fail(f"no such status within {timeout} s; last: {manager.latest()}")


@pytest.fixture(scope="module")
def tiny(mnist) -> TrainConfig:
    """TINY on the MNIST file the tests found (the child process loads it)."""
    return replace(TINY, data_path=mnist.source)


@pytest.fixture(scope="module")
def finished(tiny, tmp_path_factory):
    """A tiny job run to its end, with what was seen while it ran."""
    manager = JobManager(RunStore(tmp_path_factory.mktemp("runs")))
    first = manager.start(tiny)
    with pytest.raises(JobBusyError):
        manager.start(tiny)
    during = wait_for(manager, lambda s: s.progress is not None)
    end = manager.wait(WAIT)
    return manager, first, during, end


def test_a_job_reports_progress_while_it_runs(finished):
    _, first, during, _ = finished
    assert first.running and first.progress is None and first.fraction_done == 0.0
    assert during.id == first.id
    assert 0.0 < during.fraction_done <= 1.0
    assert "batch" in during.message or "Testing" in during.message


def test_a_finished_job_is_saved_as_a_run(finished):
    manager, first, _, end = finished
    assert end.state == "finished" and not end.running and end.error is None
    assert end.fraction_done == 1.0 and end.ended is not None
    assert [m.epoch for m in end.history] == [1]
    assert end.curve and end.curve[-1].epoch == pytest.approx(1.0)
    run = manager.store.get(end.run_id)
    assert run.card.test_accuracy == end.test_accuracy
    assert run.card.training["train_images"] == 2000 and not run.stopped
    assert f"{end.test_accuracy:.2%}" in end.message
    assert manager.latest() == end  # every viewer sees the same, ended job


def test_a_new_run_does_not_become_active_by_itself(finished):
    manager, *_ = finished
    assert manager.store.active().path == model_lib.BUNDLED_MODEL


def test_a_second_start_is_refused_while_one_runs(finished):
    manager, first, *_ = finished  # the fixture's second start raised JobBusyError
    assert manager.latest().id == first.id
    assert len(manager.store.list()) == 1  # nothing ran twice


def test_after_a_crash_a_job_runs_and_stop_keeps_its_model(tiny, tmp_path):
    store = RunStore(tmp_path)
    manager = JobManager(store)
    manager.start(replace(tiny, preset="no-such-net"))
    assert manager.wait(WAIT).state == "failed"
    manager.start(replace(tiny, epochs=3))  # the manager still takes new jobs
    wait_for(manager, lambda s: s.progress is not None)
    manager.stop()
    assert manager.latest().stop_requested
    end = manager.wait(WAIT)
    assert end.state == "stopped"
    assert end.progress.fraction < 0.5  # far from 3 epochs of 16 batches
    run = store.get(end.run_id)
    assert run.stopped and run.model_path.is_file()
    assert store.active().run_id is None  # a stopped job leaves the active model


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        (replace(TINY, preset="no-such-net"), "ValueError: unknown preset"),
        (replace(TINY, data_path="/nowhere.npz"), DatasetNotFoundError.user_message),
    ],
)
def test_a_crash_fails_the_job_with_its_message(tiny, tmp_path, cfg, expected):
    manager = JobManager(RunStore(tmp_path))
    cfg = replace(cfg, data_path=cfg.data_path or tiny.data_path)
    manager.start(cfg)
    end = manager.wait(WAIT)
    assert end.state == "failed" and not end.running
    assert expected in end.error and expected in end.message
    assert manager.store.list() == ()


def test_stop_without_a_job_does_nothing(tmp_path):
    manager = JobManager(RunStore(tmp_path))
    manager.stop()
    assert manager.latest() is None and manager.wait(1) is None


def test_a_restarted_app_finds_its_runs_and_active_model(finished, mnist):
    """A new process sees the same folder: runs listed, the chosen model kept."""
    old, *_, end = finished
    root = old.store.root
    RunStore(root).activate(end.run_id)

    restarted = JobManager(RunStore(root))
    assert restarted.latest() is None  # jobs live in memory; runs on disk
    assert [run.id for run in restarted.store.list()] == [end.run_id]
    active = restarted.store.active()
    assert active.run_id == end.run_id and active.warning is None
    reader = Recognizer.load(active.path)
    probabilities = reader.predict(mnist.x_test[:200].astype(np.float32) / 255)
    assert (probabilities.argmax(1) == mnist.y_test[:200]).mean() > 0.5

    RunStore(root).restore_bundled()
    assert RunStore(root).active().path == model_lib.BUNDLED_MODEL


def test_a_damaged_active_model_falls_back_to_the_bundled_one(finished, tmp_path):
    """A missing file is caught by the store; a damaged one where it is loaded."""
    old, *_, end = finished
    store = RunStore(tmp_path)
    copy = tmp_path / end.run_id
    copy.mkdir()
    for name in ("model.keras", "model.json"):
        (copy / name).write_bytes((old.store.root / end.run_id / name).read_bytes())
    store.activate(end.run_id)
    (copy / "model.keras").write_bytes(b"not a zip")
    with pytest.raises(ModelLoadError):
        model_lib.load(store.active().path)
    (copy / "model.keras").unlink()
    active = store.active()
    assert active.path == model_lib.BUNDLED_MODEL and end.run_id in active.warning

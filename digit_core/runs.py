"""Trained models kept outside git: one folder per run, and which one reads digits.

    store = RunStore()                     # $DIGITS_RUNS_DIR, else a per-user folder
    run = store.save(result)               # a TrainResult from digit_core.train
    store.activate(run.id)                 # Draw and Upload now read with it
    store.active().path                    # ... in every session, after restarts too
    store.restore_bundled()                # back to models/digits.keras

Layout of the runs folder (never the project's models/, which holds the bundled
model and is only written by hand):

    <root>/<run id>/model.keras        the model, without optimiser state
    <root>/<run id>/model.json         its ModelCard (model.card_path)
    <root>/<run id>/probabilities.npy  (10000, 10) float32, MNIST test, for galleries
    <root>/<run id>/run.json           how the run ended: {"stopped": bool}
    <root>/active.json                 the pointer: {"run": "<run id>" or null}

A run folder is written under a hidden temporary name and renamed into place,
and the pointer is replaced with os.replace, so a reader never sees half of
either. Safe to share between threads and between app processes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from digit_core import model as model_lib
from digit_core.errors import RunNotFoundError
from digit_core.model import ModelCard
from digit_core.train import TrainResult
from digit_core.userdata import user_data_folder

log = logging.getLogger(__name__)

ENV_VAR = "DIGITS_RUNS_DIR"
MODEL_FILE = "model.keras"
PROBABILITIES_FILE = "probabilities.npy"
RUN_FILE = "run.json"
ACTIVE_FILE = "active.json"
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # no slashes: ids are folder names
MISSING_WARNING = (
    "The chosen model {run!r} is missing or damaged, so the bundled model reads "
    "your digits. Choose another on the Train page."
)


def default_root() -> Path:
    """Where runs live when DIGITS_RUNS_DIR is unset: <user data folder>/runs."""
    return user_data_folder() / "runs"


def runs_root() -> Path:
    """$DIGITS_RUNS_DIR when set, else default_root()."""
    value = os.environ.get(ENV_VAR)
    return Path(value).expanduser() if value else default_root()


@dataclass(frozen=True, slots=True)
class Run:
    """One saved training run: its folder, card and how it ended."""

    id: str
    folder: Path
    card: ModelCard
    stopped: bool  # ended by Stop: the best epoch before it, or the weights then

    @property
    def model_path(self) -> Path:
        return self.folder / MODEL_FILE

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.card.created)

    @property
    def seconds(self) -> float:
        """Training time: the finished epochs' wall time, as the card records it."""
        return float(self.card.training.get("seconds") or 0.0)


@dataclass(frozen=True, slots=True)
class Active:
    """The model that reads digits now; `warning` says why it is not the one chosen."""

    path: Path
    run_id: str | None  # None: the bundled model
    warning: str | None = None


class RunStore:
    """The runs folder: save, list, delete, and the active-model pointer."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else runs_root()
        self._lock = threading.Lock()  # orders this process's pointer changes

    # runs

    def save(self, result: TrainResult) -> Run:
        """Write a finished or stopped training's model, card and test probabilities.

        The run id is the card's name, made unique with a suffix when needed.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=".saving-"))
        try:
            model_lib.save(result.model, staging / MODEL_FILE, result.card)
            np.save(staging / PROBABILITIES_FILE, result.test_probabilities)
            (staging / RUN_FILE).write_text(json.dumps({"stopped": result.stopped}))
            staging.chmod(0o755)  # mkdtemp makes 0700; other users may serve the app
            run_id = self._claim(_safe_id(result.card.name), staging)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        log.info("saved run %s in %s", run_id, self.root)
        return self.get(run_id)

    def _claim(self, wanted: str, staging: Path) -> str:
        """Rename `staging` to a free run id (wanted, wanted-2, ...) atomically."""
        for n in range(1, 1000):
            run_id = wanted if n == 1 else f"{wanted}-{n}"
            if (self.root / run_id).exists():
                continue
            staging.rename(self.root / run_id)  # a non-empty folder is never replaced
            return run_id
        msg = f"no free run id for {wanted!r} in {self.root}"
        raise RuntimeError(msg)

    def get(self, run_id: str) -> Run:
        """The run with this id; RunNotFoundError if it is gone or unreadable."""
        folder = self._folder(run_id)
        card = model_lib.load_card(folder / MODEL_FILE)
        if card is None or not (folder / MODEL_FILE).is_file():
            msg = f"run {run_id!r}: no readable model and card in {folder}"
            raise RunNotFoundError(msg)
        try:
            stopped = bool(json.loads((folder / RUN_FILE).read_text())["stopped"])
        except (OSError, ValueError, KeyError, TypeError):
            stopped = False
        return Run(run_id, folder, card, stopped)

    def list(self) -> tuple[Run, ...]:
        """Every readable run, newest first; damaged folders are logged and left out."""
        if not self.root.is_dir():
            return ()
        found = []
        for folder in self.root.iterdir():
            if not folder.is_dir() or not RUN_ID.fullmatch(folder.name):
                continue
            try:
                found.append(self.get(folder.name))
            except RunNotFoundError as err:
                log.warning("skipping %s", err)
        return tuple(sorted(found, key=lambda run: run.card.created, reverse=True))

    def probabilities(self, run_id: str) -> NDArray[np.float32]:
        """(10000, 10) float32 probabilities of the run's model on MNIST test."""
        path = self._folder(run_id) / PROBABILITIES_FILE
        try:
            return np.load(path, allow_pickle=False).astype(np.float32)
        except (OSError, ValueError) as exc:
            msg = f"run {run_id!r}: cannot read {path}: {exc}"
            raise RunNotFoundError(msg) from exc

    def delete(self, run_id: str) -> None:
        """Remove a run; deleting the active run restores the bundled model first."""
        folder = self._folder(run_id)
        with self._lock:
            if self._pointer() == run_id:
                self._point_to(None)
            # renamed away first, so no reader finds a half-deleted folder
            doomed = self.root / f".deleting-{run_id}-{os.getpid()}"
            try:
                folder.rename(doomed)
            except FileNotFoundError as exc:
                msg = f"run {run_id!r} is already gone"
                raise RunNotFoundError(msg) from exc
        shutil.rmtree(doomed, ignore_errors=True)

    def _folder(self, run_id: str) -> Path:
        if not RUN_ID.fullmatch(run_id):
            msg = f"not a run id: {run_id!r}"
            raise RunNotFoundError(msg)
        return self.root / run_id

    # the active model

    def activate(self, run_id: str) -> Run:
        """Make a run the model that reads digits, for every session and restart."""
        run = self.get(run_id)
        with self._lock:
            self._point_to(run_id)
        return run

    def restore_bundled(self) -> None:
        """Read digits with models/digits.keras again; the runs stay."""
        with self._lock:
            self._point_to(None)

    def active(self) -> Active:
        """The model to read with; the bundled one, with a warning, if the run is gone.

        A run that exists but will not load is caught where it is loaded
        (see pages/common.py), which falls back the same way.
        """
        run_id = self._pointer()
        if run_id is None:
            return Active(model_lib.BUNDLED_MODEL, None)
        path = self.root / run_id / MODEL_FILE
        if not RUN_ID.fullmatch(run_id) or not path.is_file():
            log.warning("active run %r has no model; using the bundled one", run_id)
            return Active(model_lib.BUNDLED_MODEL, None, missing_warning(run_id))
        return Active(path, run_id)

    def _pointer(self) -> str | None:
        try:
            value = json.loads((self.root / ACTIVE_FILE).read_text())["run"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("unreadable %s; using the bundled model", ACTIVE_FILE)
            return None
        return value if isinstance(value, str) else None

    def _point_to(self, run_id: str | None) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".active-", suffix=".partial")
        with os.fdopen(fd, "w") as out:
            json.dump({"run": run_id}, out)
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.root / ACTIVE_FILE)


def missing_warning(run_id: str) -> str:
    """What Draw and Upload say when the chosen run cannot be used."""
    return MISSING_WARNING.format(run=run_id)


def _safe_id(name: str) -> str:
    """A card name as a folder name: other characters become '-'."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", name).strip("-.") or "run"
    return cleaned if RUN_ID.fullmatch(cleaned) else f"run-{cleaned}"

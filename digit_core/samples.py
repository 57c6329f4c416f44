"""My digits: the user's own labelled drawings and photos, in one SQLite file.

Each sample keeps the raw picture (PNG), the 28x28 input the network saw, the
label the user confirmed, what the network read and when. The file lives in a
per-user data folder outside git; DIGITS_SAMPLES_PATH points elsewhere. Several
app sessions and processes may save at once: WAL mode lets readers work beside
one writer, and a busy timeout makes a writer wait for the lock instead of
failing. A damaged file raises SamplesDamagedError, and `SampleStore.recover`
moves it aside as a backup so that an empty store can start.

    store = SampleStore()  # $DIGITS_SAMPLES_PATH, else the per-user file
    store.add(png, prediction.input, label=7, read_as=1, confidence=0.58)
    x, y = load_arrays(store.path)  # (N, 28, 28) float32, (N,) uint8: training
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import sqlite3
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from digit_core.errors import SamplesDamagedError, SamplesError, SamplesImportError
from digit_core.userdata import user_data_folder

log = logging.getLogger(__name__)

ENV = "DIGITS_SAMPLES_PATH"  # the store's file; unset: default_path()
FILE_NAME = "my_digits.sqlite"
BUSY_TIMEOUT = 30.0  # s a writer waits for another's lock; a save takes milliseconds
SCHEMA_VERSION = 1  # PRAGMA user_version of a file this module made
SIZE = 28  # inputs are SIZE x SIZE, as the network sees them
CROP_MARGIN = 0.2  # of the box's larger side, kept around a digit's raw crop
EXPORT_FORMAT = "digit-studio my digits 1"  # an export's `format` entry
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

SCHEMA = (
    """CREATE TABLE samples (
        id INTEGER PRIMARY KEY,
        label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
        read_as INTEGER CHECK (read_as BETWEEN 0 AND 9),  -- NULL: nothing read
        confidence REAL,  -- of read_as, in [0, 1]
        created TEXT NOT NULL,  -- ISO 8601, UTC, microseconds
        image BLOB NOT NULL,  -- the raw picture, PNG
        input BLOB NOT NULL,  -- 28x28 float32, row-major, little-endian
        digest TEXT NOT NULL UNIQUE  -- sha256 of the above: imports skip copies
    )""",
    "CREATE INDEX samples_by_label ON samples (label)",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)
COLUMNS = "id, label, read_as, confidence, created, image, input, digest"
# sqlite3 primary result codes that mean the file itself is bad, or the disk
DAMAGED = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
UNAVAILABLE = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_READONLY,
}
Box = tuple[int, int, int, int]  # x, y, w, h in picture pixels


@dataclass(frozen=True, slots=True, eq=False)
class Sample:
    """One saved digit. Equal samples have equal `digest`s (arrays defeat ==)."""

    id: int  # the store's row id; 0 before it is stored
    label: int  # the digit it is, as the user said
    read_as: int | None  # what the network read; None: not read
    confidence: float | None  # the network's probability of read_as
    created: str  # ISO 8601, UTC
    image: bytes  # the raw picture, PNG
    input: NDArray[np.float32]  # (28, 28) in [0, 1], ink high: what the network saw
    digest: str  # sha256 of everything but id: the same sample gives the same one


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: int
    skipped: int  # already in the store


def default_path() -> Path:
    """The per-user file: in the user data folder, never inside a checkout."""
    return user_data_folder() / FILE_NAME


def store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The store's file: `path`, else $DIGITS_SAMPLES_PATH, else default_path()."""
    chosen = path if path is not None else os.environ.get(ENV)
    return Path(chosen) if chosen else default_path()


def sample(
    image: bytes,
    digit_input: NDArray[np.floating],
    label: int,
    read_as: int | None = None,
    confidence: float | None = None,
    created: str | None = None,
) -> Sample:
    """A checked, not yet stored Sample; `created` defaults to now.

    digit_input: (28, 28) floats in [0, 1], ink high; copied as float32.
    Raises ValueError for a label or reading outside 0-9 or a wrong shape.
    """
    pixels = np.array(digit_input, dtype=np.float32)
    if pixels.shape != (SIZE, SIZE):
        msg = f"input must be ({SIZE}, {SIZE}), not {pixels.shape}"
        raise ValueError(msg)
    for name, digit in (("label", label), ("read_as", read_as)):
        if digit is not None and int(digit) not in range(10):
            msg = f"{name} must be a digit 0-9, not {digit!r}"
            raise ValueError(msg)
    label = int(label)
    read_as = None if read_as is None else int(read_as)
    confidence = None if confidence is None else float(confidence)
    created = created or datetime.now(UTC).isoformat(timespec="microseconds")
    digest = hashlib.sha256(
        repr((label, read_as, confidence, created)).encode()
        + image
        + pixels.astype("<f4").tobytes()
    ).hexdigest()
    return Sample(0, label, read_as, confidence, created, image, pixels, digest)


def crop_png(
    picture: NDArray, box: Box, size: tuple[int, int], margin: float = CROP_MARGIN
) -> bytes:
    """One digit's part of a picture, with a margin, as PNG: its raw image.

    picture: (h, w[, 3 | 4]) float in [0, 1] or uint8, perhaps downsized from
    the original; size: the original's (width, height), the frame of `box`
    (x, y, w, h). E.g. a 560 px wide photo shown at 280 px halves the box.
    """
    array = np.asarray(picture)
    if array.dtype != np.uint8:
        array = np.round(np.clip(array, 0.0, 1.0) * 255).astype(np.uint8)
    scale = array.shape[1] / max(1, size[0])
    x, y, w, h = (v * scale for v in box)
    pad = margin * max(w, h)
    top, bottom = max(0, round(y - pad)), min(array.shape[0], round(y + h + pad))
    left, right = max(0, round(x - pad)), min(array.shape[1], round(x + w + pad))
    crop = array[top:bottom, left:right] if bottom > top and right > left else array
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(crop)).save(buffer, format="PNG")
    return buffer.getvalue()


def _typed(exc: sqlite3.Error, path: Path) -> SamplesError:
    """The typed error for an sqlite3 failure; re-raises one that is our own bug."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF  # extended codes keep it low
    msg = f"{path}: {exc}"
    if primary in DAMAGED:
        return SamplesDamagedError(msg)
    if primary in UNAVAILABLE:
        return SamplesError(msg)
    raise exc


def _from_row(row: tuple) -> Sample:
    sample_id, label, read_as, confidence, created, image, pixels, digest = row
    digit_input = np.frombuffer(pixels, "<f4").astype(np.float32).reshape(SIZE, SIZE)
    return Sample(
        sample_id,
        label,
        read_as,
        confidence,
        created,
        bytes(image),
        digit_input,
        digest,
    )


class SampleStore:
    """My digits in one SQLite file; share freely between threads and processes.

    Every call opens its own short connection, so sessions never share one
    (sqlite3 connections are not thread-safe) and a file that `recover` moved
    aside is replaced by an empty store on the next call.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = store_path(path)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection to a file with our schema; sqlite3 errors come out typed."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = f"{self.path.parent}: {exc.strerror or exc}"
            raise SamplesError(msg) from exc
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        except sqlite3.Error as exc:
            raise _typed(exc, self.path) from exc
        try:
            self._ensure_schema(db)
            yield db
        except sqlite3.Error as exc:
            raise _typed(exc, self.path) from exc
        finally:
            db.close()

    def _ensure_schema(self, db: sqlite3.Connection) -> None:
        """Make the schema in a new, empty file; refuse a file that is not ours."""
        if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            self._make_schema(db)
        _use_wal(db)

    def _make_schema(self, db: sqlite3.Connection) -> None:
        with _transaction(db):
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
            if version == SCHEMA_VERSION:
                return  # another connection made it while we waited for the lock
            if version != 0 or tables:
                msg = (
                    f"{self.path}: schema version {version} with {tables} objects,"
                    f" not a my-digits store (version {SCHEMA_VERSION})"
                )
                raise SamplesDamagedError(msg)
            for statement in SCHEMA:
                db.execute(statement)
            log.info("created the my-digits store %s", self.path)

    def add(self, new: Sample) -> Sample:
        """Store one sample; returns it with its id (the stored one if a copy)."""
        with self._connect() as db, _transaction(db):
            _insert(db, [new])
            row = db.execute(
                f"SELECT {COLUMNS} FROM samples WHERE digest = ?", (new.digest,)
            ).fetchone()
        return _from_row(row)

    def samples(
        self, label: int | None = None, limit: int | None = None
    ) -> tuple[Sample, ...]:
        """Stored samples, newest first; only `label` when given, at most `limit`."""
        where, args = ("WHERE label = ?", [label]) if label is not None else ("", [])
        query = f"SELECT {COLUMNS} FROM samples {where} ORDER BY id DESC LIMIT ?"
        with self._connect() as db:
            rows = db.execute(query, [*args, -1 if limit is None else limit]).fetchall()
        return tuple(_from_row(row) for row in rows)

    def counts(self) -> tuple[int, ...]:
        """How many samples of each digit: 10 counts, index = label."""
        with self._connect() as db:
            rows = db.execute("SELECT label, count(*) FROM samples GROUP BY label")
            found = dict(rows.fetchall())
        return tuple(found.get(d, 0) for d in range(10))

    def delete(self, sample_id: int) -> bool:
        """Remove one sample; False when there was none with that id."""
        with self._connect() as db, _transaction(db):
            gone = db.execute("DELETE FROM samples WHERE id = ?", (sample_id,))
            return gone.rowcount > 0

    def export_npz(self) -> bytes:
        """Every sample, oldest first, as a compressed .npz that import_npz reads.

        Arrays: labels (N,) uint8; read_as (N,) int8, -1 for none; confidence
        (N,) float64, NaN for none; created (N,) str; inputs (N, 28, 28)
        float32; images: the PNGs back to back, uint8, split at image_ends (N,).
        No pickles, so numpy loads it with allow_pickle=False.
        """
        everything = self.samples()[::-1]
        pngs = [s.image for s in everything]
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            format=np.array(EXPORT_FORMAT),
            labels=np.array([s.label for s in everything], np.uint8),
            read_as=np.array(
                [-1 if s.read_as is None else s.read_as for s in everything], np.int8
            ),
            confidence=np.array(
                [np.nan if s.confidence is None else s.confidence for s in everything],
                np.float64,
            ),
            created=np.array([s.created for s in everything], dtype=str),
            inputs=np.array([s.input for s in everything], np.float32).reshape(
                -1, SIZE, SIZE
            ),
            images=np.frombuffer(b"".join(pngs), np.uint8),
            image_ends=np.cumsum([len(p) for p in pngs], dtype=np.int64),
        )
        return buffer.getvalue()

    def import_npz(self, data: bytes) -> ImportResult:
        """Add the samples of an export; ones already here are skipped.

        All or nothing: a file that is not an export raises SamplesImportError
        and adds nothing.
        """
        incoming = _read_export(data)
        with self._connect() as db, _transaction(db):
            added = _insert(db, incoming)
        return ImportResult(added=added, skipped=len(incoming) - added)

    def recover(self) -> Path:
        """Move the file (and its WAL and shared-memory files) aside; the backup's path.

        Nothing is deleted, so the backup can still be rescued, for instance
        with the sqlite3 shell's `.recover`; the next call starts an empty store.
        """
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        backup = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                os.replace(source, f"{backup}{suffix}")
        log.warning("moved the damaged store %s to %s", self.path, backup)
        return backup


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch the file to write-ahead logging: readers no longer wait for a writer.

    The mode is kept in the file, but switching needs the file to itself and
    does not wait for it (two sessions creating the store at once: "database
    is locked"), so a busy file is left as it is and switched by a later call.
    """
    if db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    try:
        db.execute("PRAGMA journal_mode = WAL")
    except sqlite3.OperationalError as exc:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise
        log.debug("my-digits store busy; write-ahead logging on a later call")


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """A write transaction that takes the lock up front, waiting up to BUSY_TIMEOUT.

    A deferred one that reads first could fail at once with SQLITE_BUSY when
    another writer commits in between; IMMEDIATE waits instead.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _insert(db: sqlite3.Connection, new: Sequence[Sample]) -> int:
    """Insert samples whose digest is not stored yet; how many were new."""
    before = db.total_changes
    db.executemany(
        "INSERT OR IGNORE INTO samples"
        " (label, read_as, confidence, created, image, input, digest)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                s.label,
                s.read_as,
                s.confidence,
                s.created,
                s.image,
                s.input.astype("<f4").tobytes(),
                s.digest,
            )
            for s in new
        ],
    )
    return db.total_changes - before


def _read_export(data: bytes) -> list[Sample]:
    """The samples in an export_npz file; SamplesImportError for anything else."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        msg = f"cannot read the file as .npz: {exc}"
        raise SamplesImportError(msg) from exc
    if str(arrays.get("format", "")) != EXPORT_FORMAT:
        msg = f"format is {str(arrays.get('format'))!r}, not {EXPORT_FORMAT!r}"
        raise SamplesImportError(msg)
    try:
        labels, read_as = arrays["labels"], arrays["read_as"]
        confidence, created = arrays["confidence"], arrays["created"]
        inputs, images, ends = arrays["inputs"], arrays["images"], arrays["image_ends"]
        n = len(labels)
        if inputs.shape != (n, SIZE, SIZE) or not (
            len(read_as) == len(confidence) == len(created) == len(ends) == n
        ):
            msg = f"lengths differ: {n} labels, inputs {inputs.shape}"
            raise SamplesImportError(msg)
        starts = np.concatenate([[0], ends])[:-1].astype(np.int64)
        raw = images.astype(np.uint8).tobytes()
        incoming = [
            sample(
                raw[start:end],
                inputs[i],
                int(labels[i]),
                None if read_as[i] < 0 else int(read_as[i]),
                None if np.isnan(confidence[i]) else float(confidence[i]),
                str(created[i]),
            )
            for i, (start, end) in enumerate(zip(starts, ends, strict=True))
        ]
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        msg = f"not a my-digits export: {exc}"
        raise SamplesImportError(msg) from exc
    if not all(s.image.startswith(PNG_SIGNATURE) for s in incoming):
        msg = "an image is not a PNG"
        raise SamplesImportError(msg)
    return incoming


def load_arrays(
    path: str | os.PathLike[str],
) -> tuple[NDArray[np.float32], NDArray[np.uint8]]:
    """An existing store's inputs and labels, oldest first, for training.

    Returns (N, 28, 28) float32 in [0, 1] and (N,) uint8. A missing file is a
    SamplesError, not an empty set: a mistyped path must not train on nothing.
    """
    store = SampleStore(path)
    if not store.path.is_file():
        msg = f"{store.path}: no such file"
        raise SamplesError(msg)
    everything = store.samples()[::-1]
    x = np.array([s.input for s in everything], np.float32).reshape(-1, SIZE, SIZE)
    return x, np.array([s.label for s in everything], np.uint8)

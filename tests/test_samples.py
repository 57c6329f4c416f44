"""digit_core.samples: the "my digits" store, saving at once, damage, export/import."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digit_core import samples
from digit_core.errors import SamplesDamagedError, SamplesError, SamplesImportError
from digit_core.samples import Sample, SampleStore

ROOT = Path(__file__).resolve().parent.parent


def png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (12, 10), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def make(label: int, seed: int = 0, read_as: int | None = 1) -> Sample:
    """A sample with a distinct picture and input per seed."""
    digit_input = np.random.default_rng(seed).random((28, 28), np.float32)
    return samples.sample(
        png(seed), digit_input, label, read_as, None if read_as is None else 0.25
    )


def same(a: Sample, b: Sample) -> bool:
    """Equal in everything but the row id."""
    return (
        (a.label, a.read_as, a.confidence, a.created, a.image, a.digest)
        == (b.label, b.read_as, b.confidence, b.created, b.image, b.digest)
        and a.input.dtype == b.input.dtype == np.float32
        and np.array_equal(a.input, b.input)
    )


@pytest.fixture
def store(tmp_path: Path) -> SampleStore:
    return SampleStore(tmp_path / "mine.sqlite")


# where the file lives


def test_the_path_comes_from_the_argument_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(samples.ENV, str(tmp_path / "env.sqlite"))
    assert samples.store_path() == tmp_path / "env.sqlite"
    assert samples.store_path(tmp_path / "given.sqlite") == tmp_path / "given.sqlite"
    monkeypatch.delenv(samples.ENV)
    assert samples.store_path() == samples.default_path()


def test_the_default_is_a_per_user_folder_outside_the_checkout(monkeypatch, tmp_path):
    assert not samples.default_path().is_relative_to(ROOT)
    assert samples.default_path().is_relative_to(Path.home()) or sys.platform == "win32"
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
        assert samples.default_path() == tmp_path / "digit-studio" / "my_digits.sqlite"


def test_making_a_store_touches_no_file(tmp_path):
    SampleStore(tmp_path / "sub" / "mine.sqlite")
    assert not (tmp_path / "sub").exists()


# saving, listing, deleting


def test_a_saved_sample_comes_back_the_same(store):
    saved = store.add(make(7, seed=1))
    assert saved.id > 0
    (back,) = store.samples()
    assert same(back, saved) and back.id == saved.id
    assert back.input.shape == (28, 28)


def test_nothing_read_is_kept_as_none(store):
    store.add(make(4, read_as=None))
    (back,) = store.samples()
    assert back.read_as is None and back.confidence is None


def test_samples_are_newest_first_and_filter_by_label(store):
    for seed, label in enumerate([3, 7, 3, 1]):
        store.add(make(label, seed))
    assert [s.label for s in store.samples()] == [1, 3, 7, 3]
    assert [s.label for s in store.samples(label=3)] == [3, 3]
    assert store.samples(label=9) == ()
    assert len(store.samples(limit=2)) == 2
    assert store.counts() == (0, 1, 0, 2, 0, 0, 0, 1, 0, 0)


def test_delete_removes_one_sample(store):
    keep, drop = store.add(make(2, 1)), store.add(make(2, 2))
    assert store.delete(drop.id)
    assert not store.delete(drop.id)
    assert [s.id for s in store.samples()] == [keep.id]


def test_a_bad_sample_is_refused_before_saving():
    digit_input = np.zeros((28, 28), np.float32)
    with pytest.raises(ValueError, match="label"):
        samples.sample(png(0), digit_input, 10)
    with pytest.raises(ValueError, match="read_as"):
        samples.sample(png(0), digit_input, 1, read_as=-1)
    with pytest.raises(ValueError, match="28"):
        samples.sample(png(0), np.zeros((20, 20)), 1)


def test_the_input_is_copied_not_kept(store):
    digit_input = np.zeros((28, 28), np.float32)
    new = samples.sample(png(0), digit_input, 1)
    digit_input[0, 0] = 1.0
    assert new.input[0, 0] == 0.0


def test_the_store_uses_wal_mode(store):
    store.add(make(1))
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# two sessions saving at once


def test_two_threads_saving_at_once_lose_nothing(store):
    """Two app sessions, each with its own store object, as Streamlit runs them."""
    start = threading.Barrier(2)
    errors: list[Exception] = []

    def save(first_seed: int) -> None:
        mine = SampleStore(store.path)
        start.wait()
        try:
            for seed in range(first_seed, first_seed + 30):
                mine.add(make(seed % 10, seed))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(s,)) for s in (0, 1000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(store.counts()) == 60
    pictures = {s.image for s in store.samples()}
    assert pictures == {png(seed) for seed in [*range(30), *range(1000, 1030)]}


SAVER = """
import sys
import numpy as np
from digit_core import samples
store = samples.SampleStore(sys.argv[1])
first = int(sys.argv[2])
for seed in range(first, first + 25):
    x = np.random.default_rng(seed).random((28, 28), np.float32)
    store.add(samples.sample(b"png %d" % seed, x, seed % 10))
"""


def test_two_processes_saving_at_once_lose_nothing(store):
    """Two app servers on one file: SQLite's file locks, the busy timeout and WAL."""
    savers = [
        subprocess.Popen(
            [sys.executable, "-c", SAVER, str(store.path), str(first)], cwd=ROOT
        )
        for first in (0, 500)
    ]
    assert [saver.wait(timeout=120) for saver in savers] == [0, 0]
    assert sum(store.counts()) == 50
    assert {s.image for s in store.samples()} == {
        b"png %d" % seed for seed in [*range(25), *range(500, 525)]
    }


# damaged files


def test_a_file_that_is_not_a_database_is_a_typed_error(store):
    store.path.write_bytes(b"this is not SQLite " * 300)
    for call in (store.counts, store.samples, lambda: store.add(make(1))):
        with pytest.raises(SamplesDamagedError) as info:
            call()
        assert "Move it aside" in info.value.user_message
        assert str(store.path) in str(info.value)


def test_a_database_damaged_inside_is_a_typed_error(store):
    for seed in range(40):
        store.add(make(seed % 10, seed))
    data = bytearray(store.path.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    data[page:] = np.random.default_rng(0).bytes(len(data) - page)  # all but page 1
    store.path.write_bytes(bytes(data))
    with pytest.raises(SamplesDamagedError):
        store.samples()


def test_another_programs_database_is_not_taken_for_ours(store):
    with sqlite3.connect(store.path) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(SamplesDamagedError, match="not a my-digits store"):
        store.counts()


def test_recover_keeps_a_backup_and_starts_afresh(store):
    damaged = b"this is not SQLite " * 300
    store.path.write_bytes(damaged)
    with pytest.raises(SamplesDamagedError):
        store.counts()
    backup = store.recover()
    assert backup.read_bytes() == damaged
    assert backup.parent == store.path.parent and backup != store.path
    assert store.counts() == (0,) * 10
    store.add(make(5))
    assert store.counts()[5] == 1


def test_an_unusable_place_is_a_typed_error_not_damage(tmp_path):
    (tmp_path / "a_file").write_text("x")
    store = SampleStore(tmp_path / "a_file" / "mine.sqlite")
    with pytest.raises(SamplesError) as info:
        store.counts()
    assert not isinstance(info.value, SamplesDamagedError)


# export and import


def test_export_then_import_gives_the_same_samples(store, tmp_path):
    originals = [
        store.add(make(s % 10, s, read_as=None if s == 3 else 2)) for s in range(8)
    ]
    other = SampleStore(tmp_path / "other.sqlite")
    result = other.import_npz(store.export_npz())
    assert (result.added, result.skipped) == (8, 0)
    imported = {s.digest: s for s in other.samples()}
    assert len(imported) == 8
    assert all(same(imported[s.digest], s) for s in originals)
    assert other.counts() == store.counts()


def test_importing_twice_adds_nothing_new(store, tmp_path):
    store.add(make(1, 1))
    exported = store.export_npz()
    result = store.import_npz(exported)
    assert (result.added, result.skipped) == (0, 1)
    assert sum(store.counts()) == 1


def test_an_empty_store_exports_and_imports(store, tmp_path):
    other = SampleStore(tmp_path / "other.sqlite")
    assert other.import_npz(store.export_npz()).added == 0


def test_export_needs_no_pickles(store):
    store.add(make(1))
    with np.load(io.BytesIO(store.export_npz()), allow_pickle=False) as npz:
        assert npz["inputs"].shape == (1, 28, 28)
        assert npz["labels"].tolist() == [1]


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a zip file",
        npz(x_train=np.zeros((2, 28, 28))),  # MNIST, not an export
        npz(format=np.array(samples.EXPORT_FORMAT), labels=np.array([1])),
    ],
    ids=["empty", "text", "mnist", "incomplete"],
)
def test_a_file_that_is_not_an_export_is_refused(store, data):
    store.add(make(1))
    with pytest.raises(SamplesImportError):
        store.import_npz(data)
    assert sum(store.counts()) == 1


def test_an_export_with_a_bad_label_adds_nothing(store, tmp_path):
    for seed in range(3):
        store.add(make(seed, seed))
    with np.load(io.BytesIO(store.export_npz())) as loaded:
        arrays = dict(loaded)
    arrays["labels"] = np.array([1, 2, 12], np.uint8)
    other = SampleStore(tmp_path / "other.sqlite")
    with pytest.raises(SamplesImportError):
        other.import_npz(npz(**arrays))
    assert sum(other.counts()) == 0


# for training and for pictures


def test_load_arrays_gives_inputs_and_labels_oldest_first(store):
    for seed, label in enumerate([4, 0, 9]):
        store.add(make(label, seed))
    x, y = samples.load_arrays(store.path)
    assert x.shape == (3, 28, 28) and x.dtype == np.float32
    assert y.dtype == np.uint8 and y.tolist() == [4, 0, 9]
    assert np.array_equal(x[0], make(4, 0).input)


def test_load_arrays_of_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(SamplesError, match="no such file"):
        samples.load_arrays(tmp_path / "typo.sqlite")
    assert not (tmp_path / "typo.sqlite").exists()


def test_crop_png_cuts_the_box_with_a_margin_from_a_downsized_picture():
    picture = np.zeros((100, 200, 3), np.float32)  # a 400 x 200 photo at half size
    picture[20:40, 50:60] = 1.0  # the digit: box (100, 40, 20, 40) in photo pixels
    crop = Image.open(
        io.BytesIO(samples.crop_png(picture, (100, 40, 20, 40), (400, 200)))
    )
    assert crop.format == "PNG"
    pixels = np.asarray(crop)
    margin = round(samples.CROP_MARGIN * 20)  # of the box's larger side, at half size
    assert pixels.shape[:2] == (20 + 2 * margin, 10 + 2 * margin)
    assert pixels[margin:-margin, margin:-margin].min() == 255  # all ink inside


def test_the_store_uses_write_ahead_logging(store):
    """Readers (the My digits page) never wait for a writer (a save elsewhere)."""
    store.add(make(3, 0))
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

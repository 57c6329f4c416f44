"""pages/my_digits.py: listing, filtering, deleting, importing; a damaged store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from page_kit import encode, page

from digit_core import samples
from digit_core.samples import SampleStore

FILTER = "my_digits.filter"  # the page's keys; pages/my_digits.py is a script
IMPORT = "my_digits.import"


def saved(path: Path, labels: list[int]) -> SampleStore:
    """A store holding one blank-ish sample per label, as Teach it would save it."""
    store = SampleStore(path)
    for i, label in enumerate(labels):
        ink = np.zeros((28, 28), np.float32)
        ink[4 + i, 4:20] = 1.0  # a different stroke each, so no two are equal
        store.add(
            samples.sample(encode((ink * 255).astype(np.uint8), "PNG"), ink, label, 1)
        )
    return store


def my_digits():
    """The page through app.py: its links need the app's navigation."""
    at = page("app.py").run()
    at.switch_page("pages/my_digits.py").run()
    assert not at.exception
    return at


def test_an_empty_store_says_how_to_add_digits(my_digits_path):
    at = my_digits()
    assert at.info[0].value.startswith("None yet")
    assert at.caption[0].value == f"0 digits in {my_digits_path}"
    assert at.download_button(key="my_digits.export").disabled


def test_saved_digits_are_listed_and_filtered_by_label(my_digits_path):
    saved(my_digits_path, [3, 7, 3])
    at = my_digits()
    assert at.caption[0].value.startswith("3 digits")
    assert [image.captions[0] for image in at.image] == [
        "3, read 1",
        "7, read 1",
        "3, read 1",
    ]
    at.button_group(key=FILTER).set_value(3).run()
    assert [image.captions[0] for image in at.image] == ["3, read 1", "3, read 1"]
    at.button_group(key=FILTER).set_value(5).run()
    assert not at.image and at.info[0].value.startswith("None yet")
    assert not at.download_button(key="my_digits.export").disabled


def test_delete_removes_that_digit(my_digits_path):
    store = saved(my_digits_path, [1, 2])
    newest = store.samples()[0]
    at = my_digits()
    at.button(key=f"my_digits.delete.{newest.id}").click().run()
    assert not at.exception
    assert [s.label for s in store.samples()] == [1]
    assert [image.captions[0] for image in at.image] == ["1, read 1"]


def test_import_adds_the_digits_of_an_export(my_digits_path, tmp_path):
    exported = saved(tmp_path / "other.sqlite", [4, 5, 6]).export_npz()
    at = my_digits()
    at.file_uploader(key=IMPORT).set_value(
        ("mine.npz", exported, "application/octet-stream")
    )
    at.run()
    at.button(key="my_digits.import_now").click().run()
    assert not at.exception
    assert at.success[0].value == "Imported 3 digits; 0 were here already."
    assert SampleStore(my_digits_path).counts()[4:7] == (1, 1, 1)
    assert len(at.image) == 3


def test_a_file_that_is_not_an_export_is_a_message(my_digits_path):
    at = my_digits()
    at.file_uploader(key=IMPORT).set_value(
        ("x.npz", b"not an npz", "application/octet-stream")
    )
    at.run()
    at.button(key="my_digits.import_now").click().run()
    assert not at.exception
    assert 'not a "my digits" export' in at.error[0].value


def test_a_damaged_store_can_be_moved_aside(my_digits_path):
    my_digits_path.write_bytes(b"not SQLite at all " * 200)
    at = my_digits()
    assert "damaged" in at.error[0].value and str(my_digits_path) in at.error[0].value
    at.button(key="my_digits.recover").click().run()
    assert not at.exception and not at.error
    assert at.info[0].value.startswith("Kept the damaged file as")
    (backup,) = my_digits_path.parent.glob("my_digits.sqlite.damaged-*")
    assert backup.read_bytes().startswith(b"not SQLite")
    assert at.caption[0].value.startswith("0 digits")

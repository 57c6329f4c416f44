"""pages/teach.py: "Teach it" under a reading on the Draw and Upload pages."""

from __future__ import annotations

import io

import numpy as np
from page_kit import canvas_state, encode, page, photo
from PIL import Image

from digit_core.samples import SampleStore

TEACH = "draw.teach"  # the Draw page's prefix for the widget's keys


def labels(at, prefix: str):
    """This reading's label pickers; their keys end in the reading's fingerprint."""
    return [g for g in at.button_group if g.key.startswith(f"{prefix}.label.")]


def app_on(path: str):
    """A page through app.py: the saved message links to My digits."""
    at = page("app.py").run()
    return at.switch_page(path).run()


def drawn(ink: np.ndarray):
    at = app_on("pages/draw.py")
    at.session_state["draw.canvas"] = canvas_state(ink)
    at.run()
    assert not at.exception
    return at


def test_labels_start_at_the_reading(digits):
    at = drawn(digits[4])
    (label,) = labels(at, TEACH)
    assert label.value == 4
    assert at.button(key=f"{TEACH}.save")


def test_a_corrected_label_is_saved_with_the_reading(digits, my_digits_path):
    at = drawn(digits[4])
    labels(at, TEACH)[0].set_value(9).run()
    at.button(key=f"{TEACH}.save").click().run()
    assert not at.exception
    (sample,) = SampleStore(my_digits_path).samples()
    assert (sample.label, sample.read_as) == (9, 4)
    assert 0.0 < sample.confidence <= 1.0
    assert sample.input.shape == (28, 28) and sample.input.max() > 0.5
    raw = Image.open(io.BytesIO(sample.image))
    assert raw.format == "PNG" and max(raw.size) < 280  # the digit's crop
    assert at.get_by_key(TEACH).success[0].value == "Saved to my digits as 9."
    assert not at.get_by_key(TEACH).button  # saved once, not twice


def test_a_new_drawing_can_be_saved_again(digits, my_digits_path):
    at = drawn(digits[4])
    at.button(key=f"{TEACH}.save").click().run()
    at.session_state["draw.canvas"] = canvas_state(digits[6])
    at.run()
    (label,) = labels(at, TEACH)
    assert label.value == 6
    at.button(key=f"{TEACH}.save").click().run()
    assert (
        SampleStore(my_digits_path).counts()[4]
        == SampleStore(my_digits_path).counts()[6]
        == 1
    )


def test_no_reading_no_teaching():
    at = app_on("pages/draw.py")
    assert not labels(at, TEACH) and not at.get("button")


def test_every_digit_of_an_uploaded_number_is_saved(digits, my_digits_path):
    at = app_on("pages/upload.py")
    picture = encode(photo(digits[4], digits[2]), "PNG")
    at.file_uploader(key="upload.file").set_value(("n.png", picture, "image/png"))
    at.run()
    assert [g.value for g in labels(at, "upload.teach")] == [4, 2]
    at.button(key="upload.teach.save").click().run()
    assert not at.exception
    store = SampleStore(my_digits_path)
    assert [(s.label, s.read_as) for s in store.samples()[::-1]] == [(4, 4), (2, 2)]


def test_a_damaged_store_is_a_message_when_saving(digits, my_digits_path):
    my_digits_path.write_bytes(b"not SQLite at all " * 200)
    at = drawn(digits[1])
    at.button(key=f"{TEACH}.save").click().run()
    assert not at.exception
    assert "damaged" in at.error[0].value
    at.button(key=f"{TEACH}.recover").click().run()
    assert not at.exception
    at.button(key=f"{TEACH}.save").click().run()
    assert SampleStore(my_digits_path).counts()[1] == 1

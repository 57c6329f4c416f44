"""Teach it: save a reading's digits, with the right labels, to "my digits".

`teach(reading, key)` is one line under a reading on the Draw and Upload pages;
the My digits page shows what was saved. Also here: `store_errors`, which gives
a damaged store a button that moves it aside, for every page that opens it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from digit_core import samples
from digit_core.errors import SamplesDamagedError
from digit_core.recognize import Reading
from pages.common import show_errors

MY_DIGITS_PAGE = "pages/my_digits.py"


def store() -> samples.SampleStore:
    """The app's store: $DIGITS_SAMPLES_PATH, else the per-user file.

    It opens a connection per call, so a new object each run costs nothing.
    """
    return samples.SampleStore()


def _recover(store: samples.SampleStore, key: str) -> None:
    """Button callback: move the damaged file aside, remember where it went."""
    try:
        st.session_state[key] = f"Kept the damaged file as {store.recover()}."
    except OSError as exc:
        st.session_state[key] = f"Could not move {store.path} aside: {exc}"


@contextmanager
def store_errors(store: samples.SampleStore, key: str) -> Iterator[None]:
    """Like show_errors; a damaged store also gets a button to start afresh.

    key: the page's prefix for the button and its outcome message.
    """
    done = st.session_state.pop(f"{key}.recovered", None)
    if done:
        st.info(done, icon=":material/inventory_2:")
    with show_errors():  # other store errors: a message, nothing to press
        try:
            yield
        except SamplesDamagedError as err:
            st.error(
                f"{err.user_message} (File: {store.path})", icon=":material/error:"
            )
            st.button(
                "Move it aside and start afresh",
                key=f"{key}.recover",
                on_click=_recover,
                args=(store, f"{key}.recovered"),
                icon=":material/restart_alt:",
            )


def _fingerprint(reading: Reading) -> str:
    """Names this reading's widgets: a new drawing gets fresh labels."""
    inputs = b"".join(p.input.tobytes() for p in reading.predictions)
    return hashlib.sha1(inputs, usedforsecurity=False).hexdigest()[:12]


def teach(reading: Reading | None, key: str) -> None:
    """Under a reading: confirm or correct each digit, then save them to my digits.

    Labels start at what the network read. Once saved, the reading says so
    instead of offering to save it twice. key: the page's prefix, "draw.teach".
    """
    if reading is None or reading.empty:
        return
    fingerprint = _fingerprint(reading)
    saved = f"{key}.saved"  # (fingerprint, labels) of the latest save
    target = store()
    with st.container(key=key, border=True):
        done, as_labels = st.session_state.get(saved, ("", ""))
        if done == fingerprint:
            st.success(f"Saved to my digits as {as_labels}.", icon=":material/check:")
            st.page_link(
                MY_DIGITS_PAGE, label="See my digits", icon=":material/folder:"
            )
            return
        st.markdown("**Teach it**: right? Correct any digit, then save it.")
        many = len(reading.predictions) > 1
        labels = [
            st.pills(
                f"Digit {i + 1} is a" if many else "It is a",
                range(10),
                default=p.digit,
                required=True,
                key=f"{key}.label.{i}.{fingerprint}",
            )
            for i, p in enumerate(reading.predictions)
        ]
        if st.button(
            "Save to my digits", key=f"{key}.save", icon=":material/bookmark_add:"
        ):
            with store_errors(target, key):
                for p, label in zip(reading.predictions, labels, strict=True):
                    image = samples.crop_png(
                        reading.steps[0].image, p.box, reading.size
                    )
                    target.add(
                        samples.sample(image, p.input, label, p.digit, p.confidence)
                    )
                st.session_state[saved] = (fingerprint, "".join(map(str, labels)))
                st.rerun()

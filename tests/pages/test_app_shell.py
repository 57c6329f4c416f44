"""app.py: the navigation, the sidebar's model and every page rendering."""

from __future__ import annotations

import pytest
from page_kit import page

from digit_core import model as model_lib
from pages.common import model_path


def test_app_opens_on_draw_and_shows_the_model():
    at = page("app.py").run()
    assert not at.exception
    assert at.title[0].value == "Draw"
    card = model_lib.load_card(model_path())
    sidebar = [m.value for m in at.sidebar.markdown]
    if card is None:
        assert any("no model card" in text for text in sidebar)
    else:
        assert any(card.name in text and card.preset in text for text in sidebar)
        assert at.sidebar.metric[0].value == f"{card.test_accuracy:.2%}"


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("pages/draw.py", "Draw"),
        ("pages/upload.py", "Upload"),
        ("pages/train.py", "Train"),
        ("pages/learn.py", "Learn"),
    ],
)
def test_every_page_renders(path, title):
    at = page("app.py").run()
    at.switch_page(path).run()
    assert not at.exception
    assert not at.error
    assert at.title[0].value == title


def test_a_broken_model_is_a_message_not_a_crash(monkeypatch, tmp_path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    monkeypatch.setenv("DIGITS_MODEL_PATH", str(broken))
    at = page("pages/draw.py").run()
    assert not at.exception
    assert "could not be loaded" in at.error[0].value


def test_a_run_does_not_clear_the_keras_session(monkeypatch):
    """Streamlit's end-of-run keras.backend.clear_session() costs a gc.collect()
    of the whole server (~0.3 s holding the GIL here): app.py switches it off."""
    import keras

    calls = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: calls.append(a))
    at = page("app.py").run()
    at.switch_page("pages/upload.py").run()
    assert not at.exception
    assert calls == []

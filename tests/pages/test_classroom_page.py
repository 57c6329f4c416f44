"""pages/classroom.py: the quiz, the projector mode and the join panel."""

from __future__ import annotations

import numpy as np
import pytest
from page_kit import canvas_state, page
from streamlit import config

MODE = "classroom.mode"  # the page's keys; pages/classroom.py is a script
QUIZ = "classroom.quiz"
QUIZ_CANVAS = "classroom.quiz.canvas"
SHOW_CANVAS = "classroom.show.canvas"
BIG_READING = "classroom.big"


@pytest.fixture
def classroom():
    at = page("pages/classroom.py").run()
    assert not at.exception
    return at


def draw_for_the_quiz(at, ink: np.ndarray):
    """Draw on this round's canvas, then press Check."""
    at.session_state[f"{QUIZ_CANVAS}.{at.session_state[QUIZ].round}"] = canvas_state(
        ink
    )
    at.run()
    at.button(key="classroom.check").click().run()
    assert not at.exception
    return at


def test_the_quiz_names_a_digit_and_starts_at_zero(classroom):
    quiz = classroom.session_state[QUIZ]
    assert classroom.header[0].value.startswith("Draw a ")
    assert classroom.header[0].value.endswith(f"({quiz.target})")
    assert classroom.metric[0].value == "0 / 0"
    assert classroom.button(key="classroom.check").disabled  # nothing drawn yet


def test_drawing_the_digit_asked_scores(classroom, digits):
    target = classroom.session_state[QUIZ].target
    draw_for_the_quiz(classroom, digits[target])
    assert classroom.success[0].value == f"Yes! The network read your {target}."
    assert classroom.metric[0].value == "1 / 1"
    quiz = classroom.session_state[QUIZ]
    assert quiz.target != target and quiz.round == 1  # a new digit, a blank canvas
    assert classroom.button(key="classroom.check").disabled


def test_drawing_another_digit_is_wrong(classroom, digits):
    target = classroom.session_state[QUIZ].target
    other = (target + 5) % 10
    draw_for_the_quiz(classroom, digits[other])
    assert classroom.warning[0].value == f"The network read {other}, not {target}."
    assert classroom.metric[0].value == "0 / 1"


def test_the_score_runs_and_a_new_quiz_resets_it(classroom, digits):
    for _ in range(3):
        draw_for_the_quiz(classroom, digits[classroom.session_state[QUIZ].target])
    assert classroom.metric[0].value == "3 / 3"
    assert "3 in a row" in classroom.metric[0].proto.delta
    classroom.button(key="classroom.restart").click().run()
    assert classroom.metric[0].value == "0 / 0"
    assert not classroom.success


def test_another_digit_skips_without_scoring(classroom):
    before = classroom.session_state[QUIZ]
    classroom.button(key="classroom.skip").click().run()
    after = classroom.session_state[QUIZ]
    assert after.target != before.target and after.round == before.round + 1
    assert classroom.metric[0].value == "0 / 0"


def test_presentation_mode_shows_a_very_large_reading(classroom, digits):
    classroom.radio(key=MODE).set_value("Presentation").run()
    big = classroom.get_by_key(BIG_READING)
    assert ">?</p>" in big.markdown[0].value
    classroom.session_state[SHOW_CANVAS] = canvas_state(digits[3])
    classroom.run()
    assert not classroom.exception
    big = classroom.get_by_key(BIG_READING)
    assert ">3</p>" in big.markdown[0].value and "font-size" in big.markdown[0].value
    assert big.markdown[1].value.endswith("sure")
    assert not classroom.button  # few controls: nothing to press but the canvas


def test_the_join_panel_shows_the_address_and_a_qr_code(classroom):
    classroom.radio(key=MODE).set_value("Join from a phone").run()
    assert not classroom.exception
    (url,) = classroom.code
    assert url.value.startswith("http://") and url.value.endswith(":8501/")
    assert len(classroom.image) == 1


def test_a_loopback_server_is_explained(classroom):
    before = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    try:
        classroom.radio(key=MODE).set_value("Join from a phone").run()
    finally:
        config.set_option("server.address", before)
    assert classroom.code[0].value == "http://127.0.0.1:8501/"
    assert "only works on this computer" in classroom.warning[0].value
    assert "--server.address 0.0.0.0" in classroom.warning[0].value


def test_the_app_lists_the_classroom_and_my_digits_pages():
    at = page("app.py").run()
    for path, title in [
        ("pages/classroom.py", "Classroom"),
        ("pages/my_digits.py", "My digits"),
    ]:
        at.switch_page(path).run()
        assert not at.exception and not at.error
        assert at.title[0].value == title

"""Classroom: a drawing quiz, a projector mode, and joining from phones."""

from __future__ import annotations

import numpy as np
import streamlit as st

from digit_core import join
from digit_core import quiz as quiz_lib
from digit_core.recognize import Recognizer
from pages.common import drawing_pad, recognizer, show_errors, through_app

through_app(__file__)

MODE = "classroom.mode"
QUIZ = "classroom.quiz"  # this session's quiz_lib.Quiz: the digit asked and the score
QUIZ_CANVAS = "classroom.quiz.canvas"  # + the round, so each round starts blank
SHOW_CANVAS = "classroom.show.canvas"
BIG_READING = "classroom.big"  # the projector's reading; browser tests find it
MODES = ("Quiz", "Presentation", "Join from a phone")
QUIZ_SIZE, QUIZ_PEN = 280, 20  # px: as on the Draw page, fits a phone
BIG_SIZE, BIG_PEN = 560, 40  # px: twice that, for a projector and a long arm
QR_WIDTH = 330  # px: scans from the back of a room when projected
HUGE = (
    '<p style="font-size:min(16rem, 32vw); line-height:1; font-weight:700; '
    'margin:0; text-align:center">{}</p>'
)


def quiz_mode(reader: Recognizer) -> None:
    """Name a digit, read the drawing on Check, keep the score in the session."""
    rng = np.random.default_rng()
    quiz = st.session_state.setdefault(QUIZ, quiz_lib.new(rng))
    task, score = st.columns([2, 1])
    task.header(quiz_lib.prompt(quiz.target), anchor=False)
    score.metric(
        "Score",
        f"{quiz.right} / {quiz.asked}",
        f"{quiz.streak} in a row" if quiz.streak > 1 else None,
    )
    last = quiz.last
    if last is not None and last.correct:
        st.success(
            f"Yes! The network read your {last.target}.", icon=":material/check:"
        )
    elif last is not None:
        read = f"read {last.read}" if last.read else "could not read it"
        st.warning(f"The network {read}, not {last.target}.", icon=":material/close:")
    picture = drawing_pad(f"{QUIZ_CANVAS}.{quiz.round}", QUIZ_SIZE, QUIZ_PEN)
    check, skip, restart = st.columns(3)
    if check.button(
        "Check", key="classroom.check", type="primary", disabled=picture is None
    ):
        with show_errors():
            reading = reader.recognize(picture, mode="single")
            st.session_state[QUIZ] = quiz_lib.answer(quiz, reading.digits, rng)
            st.rerun()
    if skip.button("Another digit", key="classroom.skip"):
        st.session_state[QUIZ] = quiz_lib.skip(quiz, rng)
        st.rerun()
    if restart.button("New quiz", key="classroom.restart"):
        st.session_state[QUIZ] = quiz_lib.new(rng)
        st.rerun()


def presentation_mode(reader: Recognizer) -> None:
    """A large canvas and a very large reading; nothing else to click."""
    drawing_side, reading_side = st.columns([1, 1], gap="large")
    with drawing_side:
        picture = drawing_pad(SHOW_CANVAS, BIG_SIZE, BIG_PEN)
    with reading_side, st.container(key=BIG_READING):
        reading = None
        if picture is not None:
            with show_errors():
                reading = reader.recognize(picture)
        if reading is None or reading.empty:
            st.markdown(HUGE.format("?"), unsafe_allow_html=True)
            st.caption("Draw a digit in the black square.")
            return
        st.markdown(HUGE.format(reading.digits), unsafe_allow_html=True)
        sure = ", ".join(f"{p.confidence:.0%}" for p in reading.predictions)
        st.markdown(f"### {sure} sure")


def join_panel() -> None:
    """The app's address on this network, as text and as a QR code."""
    here = join.address(
        st.get_option("server.address"),
        st.get_option("server.port"),
        join.lan_ip(),
        st.get_option("server.baseUrlPath"),
        secure=bool(st.get_option("server.sslCertFile")),
    )
    code, words = st.columns([1, 1], gap="large")
    code.image(join.qr_png(here.url), width=QR_WIDTH)
    with words:
        st.markdown("Scan the code, or open this address on a phone on the same Wi-Fi:")
        st.code(here.url, language=None)
        if here.loopback:
            st.warning(
                f"This address ({here.host}) only works on this computer. To let "
                "phones join, start the app listening on the network: `streamlit "
                "run app.py --server.address 0.0.0.0`.",
                icon=":material/wifi_off:",
            )


st.title("Classroom")
st.write("A drawing quiz, a big canvas for the projector, and phones joining in.")
mode = st.radio("Mode", MODES, horizontal=True, key=MODE, label_visibility="collapsed")
if mode == MODES[2]:
    join_panel()
else:
    reader = recognizer()
    if reader is None:
        st.stop()
    (quiz_mode if mode == MODES[0] else presentation_mode)(reader)

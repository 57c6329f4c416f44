"""Digit studio: draw or photograph digits and watch a neural network read them.

    streamlit run app.py
    DIGITS_MODEL_PATH=runs/model.keras streamlit run app.py   # another model

The entry file only routes: pages live in pages/, the work in digit_core/.
"""

from __future__ import annotations

import streamlit as st

from pages.common import ROUTED, WANTED, keep_keras_session, show_model


def run() -> None:
    keep_keras_session()
    st.set_page_config(
        page_title="Digit studio", page_icon=":material/draw:", layout="wide"
    )
    page = st.navigation(
        [
            st.Page(
                "pages/draw.py", title="Draw", icon=":material/draw:", default=True
            ),
            st.Page("pages/upload.py", title="Upload", icon=":material/upload:"),
            st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
            st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
            st.Page(
                "pages/my_digits.py", title="My digits", icon=":material/bookmarks:"
            ),
            st.Page("pages/classroom.py", title="Classroom", icon=":material/groups:"),
        ]
    )
    st.session_state[ROUTED] = True
    wanted = st.session_state.pop(WANTED, None)
    if wanted is not None:  # a deep link that arrived before app.py ran
        st.switch_page(wanted)
    show_model()
    page.run()


if __name__ == "__main__":
    run()

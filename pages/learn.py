"""Learn: how the network reads digits (arrives with its own issue)."""

from __future__ import annotations

import streamlit as st

st.title("Learn")
st.write("See inside the network: its layers, its mistakes and what it looks at.")
st.info(
    'This page arrives with its own issue. Meanwhile, open "What the model sees" '
    "on the Draw page to follow a drawing down to the network's 28x28 input.",
    icon=":material/construction:",
)

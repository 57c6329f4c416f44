"""Train: retrain the digit model in the browser (arrives with its own issue)."""

from __future__ import annotations

import streamlit as st

st.title("Train")
st.write("Train a digit network on MNIST and watch it learn, epoch by epoch.")
st.info(
    "This page arrives with its own issue. Until then the bundled model reads "
    "your digits on the Draw and Upload pages.",
    icon=":material/construction:",
)

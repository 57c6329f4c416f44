"""My digits: the drawings and photos saved with "Teach it", to review and share."""

from __future__ import annotations

import streamlit as st

from pages.common import through_app
from pages.teach import store, store_errors

through_app(__file__)

FILTER = "my_digits.filter"
IMPORT = "my_digits.import"
IMPORTED = "my_digits.imported"  # the last import's outcome, shown after the rerun
ALL = "all"
COLUMNS = 6  # thumbnails per row
THUMB = 84  # px: the 28x28 input would be 3 px a pixel
LIMIT = 120  # newest shown; the rest stay in the file, in exports and in training

st.title("My digits")
st.write(
    "Digits you saved under a reading, with the label you gave them. "
    "Training can include them: see the Train page or scripts/train.py --my-digits."
)

mine = store()
if IMPORTED in st.session_state:
    st.success(st.session_state.pop(IMPORTED), icon=":material/check:")
with store_errors(mine, "my_digits"):
    counts = mine.counts()
    st.caption(f"{sum(counts)} digits in {mine.path}")
    choice = st.pills(
        "Show",
        [ALL, *range(10)],
        default=ALL,
        required=True,
        format_func=lambda d: (
            f"all ({sum(counts)})" if d == ALL else f"{d} ({counts[d]})"
        ),
        key=FILTER,
    )
    shown = mine.samples(label=None if choice == ALL else choice, limit=LIMIT)
    if not shown:
        st.info(
            "None yet. Draw a digit, then save it with Teach it under the reading.",
            icon=":material/draw:",
        )
        st.page_link("pages/draw.py", label="Draw", icon=":material/draw:")
    elif len(shown) == LIMIT:
        st.caption(f"The newest {LIMIT} are shown.")
    for start in range(0, len(shown), COLUMNS):
        for column, sample in zip(
            st.columns(COLUMNS), shown[start : start + COLUMNS], strict=False
        ):
            with column:
                read = "" if sample.read_as is None else f", read {sample.read_as}"
                st.image(sample.image, caption=f"{sample.label}{read}", width=THUMB)
                if st.button(
                    "Delete",
                    key=f"my_digits.delete.{sample.id}",
                    icon=":material/delete:",
                    type="tertiary",
                ):
                    mine.delete(sample.id)
                    st.rerun()

    st.subheader("Share", anchor=False, divider="gray")
    st.download_button(
        "Export all (.npz)",
        data=mine.export_npz,  # called on click, in its own thread
        file_name="my_digits.npz",
        mime="application/octet-stream",
        on_click="ignore",
        disabled=not sum(counts),
        key="my_digits.export",
        icon=":material/download:",
    )
    upload = st.file_uploader("Import an export (.npz)", type=["npz"], key=IMPORT)
    if upload is not None and st.button(
        "Import", key="my_digits.import_now", icon=":material/upload:"
    ):
        result = mine.import_npz(upload.getvalue())
        st.session_state[IMPORTED] = (
            f"Imported {result.added} digits; {result.skipped} were here already."
        )
        st.rerun()

"""The app's pages; `streamlit run app.py` routes to them (see app.py)."""

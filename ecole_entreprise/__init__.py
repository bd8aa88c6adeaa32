"""Rencontres École–Entreprise BFC: shared sheets as system of record, plus a Streamlit app."""

__version__ = "0.1.0"

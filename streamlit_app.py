"""Entry point: page config, identity → role → the pages this role may open."""

import streamlit as st

from pages._feedback import run_guarded
from pages._shell import build_navigation, identify_user

st.set_page_config(page_title="Rencontres École–Entreprise BFC", page_icon="🤝", layout="wide")
run_guarded(lambda: build_navigation(identify_user()).run())

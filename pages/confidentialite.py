"""Privacy notice (public): built from the Parametres tab, versioned."""

import streamlit as st

from ecole_entreprise import errors
from ecole_entreprise.services.privacy.documents import parameters, privacy_notice
from pages._plain import plain, plain_values
from pages._shared import get_snapshot

try:
    params = parameters(get_snapshot())
except errors.UserError:
    params = parameters(None)  # the notice must stay readable even when the sheet is not
st.title("Protection des données personnelles")
st.caption(f"Notice d'information — version {plain(params.get('version_notice', ''))}")
st.markdown(privacy_notice(plain_values(params)))

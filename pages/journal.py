"""The audit journal: who did what, and whether the hash chain is intact."""

import pandas as pd
import streamlit as st

from ecole_entreprise.services import access
from ecole_entreprise.services.journal import verify_chain
from pages._shared import fr_datetime, get_snapshot, refresh_button
from pages._shell import page_user

page_user(access.VIEW_JOURNAL)
st.title("Journal")
refresh_button()
rows = get_snapshot().rows("Journal")
chain = verify_chain(rows)
(st.success if chain.ok else st.error)(chain.message_fr)
if not rows:
    st.info("Le journal est vide : il se remplit à chaque divulgation de coordonnées, export, consentement ou "
            "changement de statut d'une rencontre.")
    st.stop()
frame = pd.DataFrame([{
    "Horodatage": fr_datetime(r["horodatage"]), "Acteur": r["acteur"], "Action": r["action"],
    "Onglet": r["cible_tab"], "ID": r["cible_id"], "Champs": r["champs"], "Finalité": r["finalite"],
    "Détails": r["details"], "_jour": r["horodatage"][:10]} for r in reversed(rows)])
left, middle, right = st.columns(3)
actors = left.multiselect("Acteur", sorted(frame["Acteur"].unique()), placeholder="Tous")
actions = middle.multiselect("Action", sorted(frame["Action"].unique()), placeholder="Toutes")
target = right.text_input("ID cible contient")
if actors:
    frame = frame[frame["Acteur"].isin(actors)]
if actions:
    frame = frame[frame["Action"].isin(actions)]
if target:
    frame = frame[frame["ID"].str.contains(target, case=False, regex=False)]
days = sorted(d for d in frame["_jour"].unique() if d)
if len(days) > 1:
    start, end = st.select_slider("Période", options=days, value=(days[0], days[-1]))
    frame = frame[(frame["_jour"] >= start) & (frame["_jour"] <= end)]
st.caption(f"{len(frame)} entrée(s)")
st.dataframe(frame.drop(columns=["_jour"]), hide_index=True, width="stretch")

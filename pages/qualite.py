"""Data quality: every row of every tab checked against the schema, with a link to fix it."""

from urllib.parse import quote

import streamlit as st

from ecole_entreprise.services.census.corrections import rewrite_corrections
from ecole_entreprise.services.census.quality import (
    anomalies_frame,
    check_snapshot,
    exported_records,
    visible_anomalies,
)
from ecole_entreprise.services.kernel.exports import csv_bytes
from ecole_entreprise.services.privacy.contacts import journal_export
from pages._context import page_context
from pages._plain import plain
from pages._shared import data_location_caption, journaled_download, refresh_button

FIX_PAGES = {"Entreprises": "entreprises", "Personnels": "personnels", "Rencontres": "rencontres"}  # open ?id=

ctx = page_context("qualite")
user, store = ctx.user, ctx.store
st.title("Qualité des données")
st.caption(data_location_caption())
refresh_button()
snapshot = ctx.snapshot()
anomalies = visible_anomalies(user, check_snapshot(snapshot, store.schema), snapshot, store.schema)
if st.button("Écrire l'onglet « À corriger » de la feuille", key="write_corrections",
             help="Une ligne par anomalie, avec un lien vers la case, pour corriger directement dans la feuille."):
    rewritten = rewrite_corrections(store, user)
    (st.success if rewritten.ok else st.error)(plain(rewritten.message))
if not anomalies:
    st.success("Aucune anomalie : toutes les lignes respectent le schéma.")
    st.stop()
frame = anomalies_frame(anomalies)
errors = int((frame["Gravité"] == "erreur").sum())
st.warning(f"{len(frame)} anomalie(s) dont {errors} erreur(s). Corrigez-les dans la feuille ou depuis la fiche.")
tabs = st.multiselect("Onglets", sorted(frame["Onglet"].unique()), select_all=False, placeholder="Tous")
if tabs:
    frame = frame[frame["Onglet"].isin(tabs)]
frame["Corriger"] = [
    f"/{FIX_PAGES[t]}?id={quote(i, safe='')}" if t in FIX_PAGES and i else ""  # an ID from the sheet stays a query
    for t, i in zip(frame["Onglet"], frame["ID"], strict=True)
]
st.dataframe(frame, hide_index=True, width="stretch",
             column_config={"Corriger": st.column_config.LinkColumn("Corriger", display_text="corriger")})
journaled_download("les anomalies (CSV)", csv_bytes(frame.drop(columns=["Corriger"])),
                   "anomalies.csv", "text/csv", "_quality_export",
                   lambda: journal_export(store, user, "anomalies de qualité (CSV)", ["Valeur"],
                                          "contrôle qualité des données", exported_records(frame)))

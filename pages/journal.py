"""The audit journal: who did what, filterable, and whether the hash chain is intact."""

from datetime import date

import pandas as pd
import streamlit as st

from ecole_entreprise.services.kernel.journal import verify_chain
from pages._context import page_context
from pages._plain import plain
from pages._shared import fr_datetime, refresh_button

ctx = page_context("journal")
st.title("Journal")
refresh_button()
rows = ctx.snapshot().rows("Journal")


def show_chain() -> None:
    """The verification result; a break is named (sheet line and entry ID) so it can be looked at in the sheet."""
    chain = verify_chain(rows)
    if chain.ok:
        st.success(f"Vérification : {plain(chain.message_fr)}")
    elif chain.only_concurrent:  # two writers followed the same entry: nothing was changed or removed
        st.warning(f"Vérification : {plain(chain.message_fr)} Deux processus ont écrit au même instant ; le contenu de "
                   "chaque entrée reste vérifié.")
    else:
        st.error(f"Vérification : {plain(chain.message_fr)} {chain.checked} entrée(s) intègre(s) avant la rupture. "
                 "Le journal ne doit jamais être modifié à la main : comparez avec l'historique des versions de "
                 "la feuille.")


def journal_frame() -> pd.DataFrame:
    """Newest first; `_jour` (ISO day) drives the period filter."""
    return pd.DataFrame([{
        "Horodatage": fr_datetime(r["horodatage"]), "Acteur": r["acteur"], "Action": r["action"],
        "Onglet cible": r["cible_tab"], "ID cible": r["cible_id"], "Champs": r["champs"], "Finalité": r["finalite"],
        "Détails": r["details"], "ID": r.id, "_jour": r["horodatage"][:10]} for r in reversed(rows)])


def filtered(frame: pd.DataFrame) -> pd.DataFrame:
    left, middle, right = st.columns(3)
    actors = left.multiselect("Acteur", sorted(frame["Acteur"].unique()),
                              select_all=False, placeholder="Tous", key="journal_actor")
    actions = middle.multiselect("Action", sorted(frame["Action"].unique()), select_all=False, placeholder="Toutes",
                                 key="journal_action")
    target = right.text_input("Cible (ID ou onglet) contient", key="journal_target")
    days = sorted(d for d in frame["_jour"].unique() if d)
    # Up to today at least, so that entries written while the page is open are not filtered out.
    last = max(date.fromisoformat(days[-1]), date.today()) if days else date.today()
    period = st.date_input("Période", value=(date.fromisoformat(days[0]), last), format="DD/MM/YYYY",
                           key="journal_period") if days else ()
    if actors:
        frame = frame[frame["Acteur"].isin(actors)]
    if actions:
        frame = frame[frame["Action"].isin(actions)]
    if target:
        where = frame["ID cible"] + " " + frame["Onglet cible"]
        frame = frame[where.str.contains(target, case=False, regex=False)]
    if len(period) == 2:  # while a range is being picked, only its start is known: no filter yet
        frame = frame[(frame["_jour"] >= period[0].isoformat()) & (frame["_jour"] <= period[1].isoformat())]
    return frame


show_chain()
if not rows:
    st.info("Le journal est vide : il se remplit à chaque divulgation de coordonnées, export, consentement, "
            "demande RGPD ou changement de statut d'une rencontre.")
    st.stop()
frame = filtered(journal_frame())
st.caption(f"{len(frame)} entrée(s) sur {len(rows)} — les plus récentes d'abord.")
st.dataframe(frame.drop(columns=["_jour"]), hide_index=True, width="stretch")

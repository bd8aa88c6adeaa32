"""Planned meetings week by week, with the semaine école-entreprise marked."""

from datetime import date, timedelta

import streamlit as st

from ecole_entreprise.services import access, calendar
from pages._shared import get_snapshot, refresh_button
from pages._shell import page_user

WEEKS = 6
user = page_user(access.MANAGE_MEETINGS)
st.title("Calendrier des rencontres")
refresh_button()
snapshot = get_snapshot()
ee = calendar.ee_week(snapshot)
if ee:
    st.caption(f"Semaine école-entreprise : du {calendar.french_date(ee[0])} au {calendar.french_date(ee[1])}.")
else:
    st.caption("Dates de la semaine école-entreprise non renseignées (onglet Parametres : semaine_ee_debut, "
               "semaine_ee_fin).")

offset = st.session_state.setdefault("calendar_offset", 0)
left, middle, right = st.columns([1, 1, 1])
if left.button("◀ Semaines précédentes"):
    st.session_state["calendar_offset"] = offset - WEEKS
    st.rerun()
if middle.button("Aujourd'hui"):
    st.session_state["calendar_offset"] = 0
    st.rerun()
if ee and right.button("Semaine école-entreprise"):
    st.session_state["calendar_offset"] = (ee[0] - date.today()).days // 7
    st.rerun()
start = date.today() + timedelta(weeks=st.session_state["calendar_offset"])
visible = {r.id for r in snapshot.rows("Rencontres") if access.row_in_scope(user, "Rencontres", r, snapshot)}
view = calendar.week_view(snapshot, start, weeks=WEEKS)
if not any(item.meeting_id in visible for week in view for item in week.items):
    st.info("Aucune rencontre datée sur ces semaines. Planifiez une rencontre acceptée depuis la page Rencontres, "
            "ou changez de période.")
for week in view:
    items = [i for i in week.items if i.meeting_id in visible]
    with st.container(border=True):
        st.markdown(f"**{week.title}**" + (" 🎯" if week.ee_week else ""))
        if not items:
            st.caption("Aucune rencontre.")
        for item in items:
            visit = f", visite {item.visite}" if item.visite not in ("", "aucune") else ""
            st.markdown(f"- {calendar.french_date(item.day, weekday=True)} {calendar.french_time(item.heure)} — "
                        f"**{item.entreprise}** × {item.etablissement or 'établissement non renseigné'} "
                        f"({item.format or 'format à préciser'}{visit}) — {item.lieu or 'lieu à préciser'} — "
                        f"[ouvrir](/rencontres?id={item.meeting_id})")

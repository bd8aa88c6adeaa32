"""Planned meetings week by week, with the semaine école-entreprise marked."""

from datetime import date, timedelta

import streamlit as st

from ecole_entreprise.services.kernel import forms
from ecole_entreprise.services.meetings import calendar
from pages._context import page_context
from pages._plain import plain
from pages._shared import refresh_button

WEEKS = 4
START = "_calendar_start"  # Monday of the first week shown
WEEK_PARAM = "semaine"  # the same Monday in the URL: a reload shows the same weeks

ctx = page_context("calendrier")
st.title("Calendrier des rencontres")
refresh_button()
snapshot = ctx.snapshot()
today = forms.today()
monday = today - timedelta(days=today.weekday())
ee = calendar.ee_week(snapshot)


def go(day: date) -> None:
    st.session_state[START] = day - timedelta(days=day.weekday())
    st.query_params[WEEK_PARAM] = forms.date_cell(st.session_state[START])


def first_monday() -> date:
    """The weeks the person chose (this session, else the URL's), else this week."""
    if START not in st.session_state and (asked := forms.date_of(st.query_params.get(WEEK_PARAM, ""))):
        go(asked)
    return st.session_state.setdefault(START, monday)


if ee:
    st.info(f"Semaine école-entreprise : du {calendar.french_date(ee[0])} au {calendar.french_date(ee[1])}.",
            icon=":material/flag:")
else:
    st.caption("Dates de la semaine école-entreprise non renseignées (onglet Parametres : semaine_ee_debut et "
               "semaine_ee_fin).")

start = first_monday()
columns = st.columns([1, 1, 1, 1, 1.5] if ee else 4)
columns[0].button("◀ Semaine précédente", key="cal_prev", on_click=go, args=(start - timedelta(weeks=1),))
columns[1].button("Cette semaine", key="cal_today", on_click=go, args=(monday,))
columns[2].button("Semaine suivante ▶", key="cal_next", on_click=go, args=(start + timedelta(weeks=1),))
columns[3].button(f"+ {WEEKS} semaines ▶▶", key="cal_jump", on_click=go, args=(start + timedelta(weeks=WEEKS),))
if ee:
    columns[4].button("Semaine école-entreprise", icon=":material/flag:", key="cal_ee", on_click=go, args=(ee[0],))

view = calendar.week_view_for(ctx.user, snapshot, start, weeks=WEEKS)
shown = [week.items for week in view]
end = start + timedelta(weeks=WEEKS, days=-1)
st.caption(f"Du {calendar.french_date(start)} au {calendar.french_date(end)} — {sum(map(len, shown))} "
           "rencontre(s) datée(s) dans votre périmètre.")
if not any(shown):
    following = calendar.next_planned(ctx.user, snapshot, end)
    st.info("Aucune rencontre datée sur ces semaines. Les rencontres apparaissent ici une fois planifiées : "
            "ouvrez une rencontre acceptée dans la page Rencontres et renseignez sa date, son heure et son lieu.")
    if following:
        st.button(f"Aller à la prochaine rencontre planifiée ({calendar.french_date(following)})", key="cal_first",
                  on_click=go, args=(following,))
    st.page_link("pages/rencontres.py", label="Ouvrir la page Rencontres", icon=":material/handshake:")

for week, items in zip(view, shown, strict=True):
    with st.container(border=True):
        if week.ee_week:
            st.markdown(f"**{week.label}** · :orange-background[:material/flag: semaine école-entreprise]")
        else:
            st.markdown(f"**{week.label}**")
        if not items:
            st.caption("Aucune rencontre.")
        for item in items:
            visit = f", visite {item.visite}" if item.visite in ("avant", "après") else ""
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.markdown(f"{calendar.french_date(item.day, weekday=True)}, {calendar.french_time(item.heure)} — "
                          f"**{plain(item.entreprise)}** × "
                          f"{plain(item.etablissement or 'établissement non renseigné')} "
                          + plain(f"({item.format or 'format à préciser'}{visit}) — {item.lieu or 'lieu à préciser'}")
                          + f" — _{plain(item.statut)}_")
            right.page_link("pages/rencontres.py", label="Ouvrir", icon=":material/handshake:",
                            query_params={"id": item.meeting_id})

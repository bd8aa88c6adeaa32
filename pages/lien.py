"""Public page opened from a personal link (…/lien?t=…): one question, the minimum to answer it, no account.

A wrong, expired, used or revoked link gets a French message and nothing of the record. The services do the work
(services/links): the page only shows the form the link's purpose calls for.
"""

from __future__ import annotations

import streamlit as st

from ecole_entreprise.services.links import actions, registry
from ecole_entreprise.services.meetings.lifecycle import MeetingInvalid
from pages._plain import plain
from pages._shared import get_settings, get_snapshot, get_store


def refuse(message: str) -> None:
    st.error(plain(message))
    st.stop()


def token() -> str:
    return st.query_params.get("t", "")


def opened_link() -> tuple[registry.Link, actions.View]:
    settings = get_settings().links
    try:
        registry.signed(settings, token())  # a forged link reads nothing
        snapshot = get_snapshot(fresh=True)
        link = registry.check(snapshot, settings, token())
        shown = actions.view(snapshot, link)
    except registry.LinkRefused as refused:
        refuse(str(refused))
    except actions.Refused as error:
        refuse(f"Service momentanément indisponible, réessayez dans quelques minutes ({error}).")
    if st.session_state.get("lien_journalise") != link.row.id:
        registry.journal_opening(get_store(), link)
        st.session_state["lien_journalise"] = link.row.id
    return link, shown


def run(call) -> None:
    """Submit through the service; success replaces the form, errors stay next to it."""
    try:
        st.session_state["lien_fait"] = (token(), call())
    except MeetingInvalid as invalid:
        for message in invalid.errors.values():
            st.error(plain(message))
        return
    except actions.Refused as error:
        st.error(plain(error))
        return
    st.rerun()


def meeting_answer(link: registry.Link) -> None:
    with st.form("reponse"):
        dates = st.text_area("Dates ou créneaux qui vous conviendraient (facultatif)", max_chars=500)
        reason = st.text_area("Si vous déclinez, pour quelle raison ?", max_chars=400)
        accept = st.form_submit_button("J'accepte la rencontre", type="primary")
        decline = st.form_submit_button("Je décline la rencontre")
    if accept or decline:
        run(lambda: actions.answer_meeting(get_store(), get_snapshot(fresh=True), link, accept=accept,
                                           reason=reason, dates=dates))


def expectations(link: registry.Link) -> None:
    with st.form("attendus"):
        text = st.text_area("Ce que vous attendez de la rencontre, vos points de vigilance", max_chars=2000)
        sent = st.form_submit_button("Enregistrer mes attendus", type="primary")
    if sent:
        run(lambda: actions.write_expectations(get_store(), get_snapshot(fresh=True), link, text))


def conclusions(link: registry.Link) -> None:
    suites = actions.follow_ups()
    scale = [1, 2, 3, 4, 5]
    with st.form("conclusions"):
        text = st.text_area("Vos conclusions sur la rencontre", max_chars=4000)
        satisfaction = st.radio("Satisfaction (1 : pas du tout, 5 : très satisfait)", scale, index=None,
                                horizontal=True)
        comprehension = st.radio("La rencontre vous a-t-elle aidé à mieux comprendre l'autre monde ? (1 à 5)",
                                 scale, index=None, horizontal=True)
        recommande = st.radio("Recommanderiez-vous cette rencontre ?", ["Oui", "Non"], index=None, horizontal=True)
        chosen = st.multiselect("Suite envisagée", suites,
                                select_all=False, placeholder="Choisissez une ou plusieurs suites")
        sent = st.form_submit_button("Enregistrer mes conclusions", type="primary")
    if sent:
        run(lambda: actions.write_conclusions(
            get_store(), get_snapshot(fresh=True), link, conclusions=text, satisfaction=satisfaction,
            comprehension=comprehension, recommande=None if recommande is None else recommande == "Oui",
            suites=chosen))


def event_answer(link: registry.Link) -> None:
    comes, away = st.columns(2)
    if comes.button("Je viens", type="primary"):
        run(lambda: actions.answer_event(get_store(), get_snapshot(fresh=True), link, True))
    if away.button("Je ne viens pas"):
        run(lambda: actions.answer_event(get_store(), get_snapshot(fresh=True), link, False))


def confirmation(link: registry.Link) -> None:
    if st.button("Je confirme mon inscription", type="primary"):
        run(lambda: actions.confirm_registration(get_store(), get_snapshot(fresh=True), link))


def withdrawal(link: registry.Link) -> None:
    sure = st.checkbox("Je souhaite ne plus participer au programme")
    if st.button("Retirer mon consentement", disabled=not sure):
        run(lambda: actions.withdraw(get_store(), get_snapshot(fresh=True), link))


FORMS = {registry.MEETING_ANSWER: meeting_answer, registry.EXPECTATIONS: expectations,
         registry.CONCLUSIONS: conclusions, registry.EVENT_ANSWER: event_answer,
         registry.CONFIRMATION: confirmation, registry.WITHDRAWAL: withdrawal}

st.title("Votre lien personnel")
done = st.session_state.get("lien_fait")
if done and done[0] == token():
    st.success(plain(done[1]))
    st.stop()
current, shown = opened_link()
st.subheader(plain(shown.title))
for line in shown.lines:
    st.markdown(plain(line))
st.caption("Ce lien vous est personnel et ne sert qu'une fois. Vos réponses sont transmises au service "
           "école-entreprise et à la CPME, qui organisent les rencontres.")
FORMS[current.purpose](current)

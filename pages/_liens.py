"""Rencontres page: each party's personal link (send, follow, revoke) and the button that sends due reminders.
The services do the work (services/links); this module only draws the widgets."""

from __future__ import annotations

import streamlit as st

from ecole_entreprise import bootstrap
from ecole_entreprise.services.kernel import access
from ecole_entreprise.services.links import actions, mail, registry, reminders
from pages._feedback import Feedback
from pages._plain import plain
from pages._shared import fr_datetime, get_settings, get_snapshot, get_store


def _run(feedback: Feedback, call) -> None:
    """A button callback: `call` returns the lines to confirm; the outcome is shown on the next run, next to the
    button."""
    feedback.run(call, " ".join)
    get_store().invalidate()


def links_box(row, snapshot, user) -> None:
    st.markdown("#### Liens personnels des participants")
    purpose = mail.purpose_now(row)
    sides = mail.sides_missing(row, purpose) if purpose else []
    feedback = Feedback(f"liens_{row.id}")
    feedback.show()
    if sides:
        label = {"entreprise": "à l'entreprise", "personnel": "au personnel"}
        st.button(f"Envoyer le lien « {purpose} » {' et '.join(label[s] for s in sides)}",
                  key=f"send_links_{row.id}", on_click=_run,
                  args=(feedback, lambda: mail.send_meeting_links(get_store(), get_snapshot(fresh=True), user,
                                                        get_settings().links, bootstrap.mailer(get_settings()),
                                                        row.id, purpose),))
    else:
        st.caption("Aucune partie n'a d'étape à faire par lien pour l'instant.")
    sent = [r for r in snapshot.rows(registry.TAB) if r["cible_id"] == row.id]
    if not sent:
        return
    st.dataframe([{"Lien": r.id, "Objet": r["objet"], "Partie": r["partie"], "Statut": r["statut"],
                   "Expire le": fr_datetime(r["expire_le"]), "Utilisé le": fr_datetime(r["utilise_le"]),
                   "Réponse": r["reponse"], "Relancé le": fr_datetime(r["relance_le"])} for r in sent],
                 hide_index=True, width="stretch")
    active = [r.id for r in sent if r["statut"] == registry.ACTIVE]
    if active:
        left, right = st.columns([3, 1])
        chosen = left.selectbox("Lien à révoquer", active, key=f"revoke_pick_{row.id}")
        right.button("Révoquer", key=f"revoke_{row.id}", on_click=_run,
                     args=(feedback, lambda: [_revoked(registry.revoke(get_store(), get_snapshot(fresh=True), user,
                                                                       chosen))],))


def _revoked(row) -> str:
    return f"Lien {row.id} révoqué : il ne fonctionne plus."


def reminders_button(snapshot, user) -> None:
    """Due reminders in this user's scope, sent at most once per step and side (as by `remind`)."""
    due = [d for d in reminders.due_reminders(snapshot)
           if access.row_in_scope(user, "Rencontres", snapshot.get("Rencontres", d.meeting_id), snapshot)]
    feedback = Feedback("liens_relances")
    feedback.show()
    if not due:
        return
    settings = get_settings()

    def send() -> list[str]:
        report = reminders.send_due(get_store(), get_snapshot(fresh=True), user, settings.links,
                                    bootstrap.mailer(settings))
        return [report.summary(), *report.failed]

    st.button(f"Envoyer les relances dues ({len(due)})", key="send_reminders", on_click=_run, args=(feedback, send),
              help="Réponse attendue, attendus avant la rencontre, conclusions après : une seule relance par étape.")


def invitations_box(frame, snapshot, user) -> None:
    """Partenariats page: invite a partner to an event by a personal link (vient / ne vient pas), and the count."""
    with st.expander("Inviter par lien personnel et suivre les réponses"):
        feedback = Feedback("liens_invitations")
        feedback.show()
        titles = {r["ID"]: f"{r['Titre']} ({r['Organisé par']})" for _, r in frame.iterrows()}
        event_id = st.selectbox("Événement", list(titles), format_func=lambda key: plain(titles[key]),
                                key="invite_event")
        counts = actions.attendance(snapshot, event_id)
        st.caption(f"Réponses : {counts['vient']} vient / viennent, {counts['ne vient pas']} ne vient pas, "
                   f"{counts['sans réponse']} sans réponse.")
        partners = dict(mail.invitable(snapshot, event_id))
        if not partners:
            st.caption("Aucun partenaire à inviter : rattachez l'événement à un partenariat ou à une rencontre.")
            return
        party = st.selectbox("Partenaire invité", list(partners), format_func=lambda key: plain(partners[key]),
                             key="invite_party")
        settings = get_settings()
        st.button("Envoyer l'invitation", key="invite_send", on_click=_run, args=(
            feedback, lambda: [mail.send_event_link(get_store(), get_snapshot(fresh=True), user, settings.links,
                                          bootstrap.mailer(settings), event_id, party)],))

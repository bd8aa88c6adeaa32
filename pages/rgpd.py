"""GDPR: rights requests and their deadlines, one person's data (access export, consents, anonymisation), retention.

Every rule, permission check and journal entry lives in the services; this page asks for confirmations and shows
their French messages.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from ecole_entreprise.services.kernel import access, forms, parameters
from ecole_entreprise.services.privacy import consent, retention, rights
from pages._context import page_context
from pages._feedback import Feedback
from pages._plain import plain
from pages._shared import fr_date, fr_datetime, refresh_button

ctx = page_context("rgpd")
user, store = ctx.user, ctx.store
st.title("Demandes RGPD")
refresh_button()
snapshot, today = ctx.snapshot(), date.today()
ANONYMISED_NOTE = "_rgpd_anonymised_note"  # (person ID, what the anonymisation left for a person to check)
EXPORT = "_rgpd_export"  # (person ID, zip bytes) of the last access export prepared
PREVIEW = "_rgpd_purge_preview"  # journal entry IDs listed by the last purge simulation
PURPOSES = {"participation": "Participation au programme",
            "partage": "Partage des coordonnées avec la personne rencontrée"}
OVERDUE, DUE_SOON = "⚠ en retard", "échéance proche"  # no emoji: a table cell shows no icon font
ALERT_COLORS = {OVERDUE: "background-color: #f8d7da", DUE_SOON: "background-color: #fff3cd"}


def person_label(tab: str, row) -> str:
    if row is None:
        return "fiche introuvable"
    if tab == "Entreprises":
        return f"{row['contact_prenom']} {row['contact_nom']} — {row['raison_sociale']} ({row.id})"
    return f"{row['prenom']} {row['nom']} — {row['etablissement'] or row['fonction']} ({row.id})"


def pick_person(key: str):
    """One search over Entreprises and Personnels; returns (tab, row) or None while nobody is chosen."""
    query = st.text_input("Rechercher une personne", key=f"{key}_q",
                          placeholder="Nom, entreprise, établissement, courriel, ID…")
    found = rights.find_people(snapshot, query)
    if not found:
        st.info("Aucune fiche ne correspond à la recherche.")
        return None
    shown = list(found)[:200]
    st.caption(f"{len(found)} fiche(s) trouvée(s)" + (" — les 200 premières sont proposées." if len(found) > 200
                                                      else "."))
    labels = {k: f"{found[k][0]} — {person_label(*found[k])}" for k in shown}
    chosen = st.selectbox("Personne", shown, index=None, format_func=labels.get, key=f"{key}_pick",
                          placeholder="Choisir une personne…")
    return found.get(chosen) if chosen else None


# ---- rights requests --------------------------------------------------------------------------------------


def request_person(row) -> str:
    return person_label(row["personne_tab"], snapshot.get(row["personne_tab"], row["personne_id"]))


def first_month_end(row) -> date | None:
    """Last day to tell the person about an extension (one month after receipt)."""
    received = forms.date_of(row["recue_le"])
    return rights.add_months(received, 1) if received else None


def alert(row, due: set[str]) -> str:
    """Overdue or due within a week (rights.due_soon), for open requests only."""
    if row.id not in due:
        return ""
    limit = rights.deadline(row)
    return f"{OVERDUE} ({(today - limit).days} j)" if limit < today else f"{DUE_SOON} ({(limit - today).days} j)"


def requests_table(rows) -> None:
    due = {r.id for r in rights.due_soon(snapshot, today)}
    alerts = {r.id: alert(r, due) for r in rows}
    overdue = sum(1 for a in alerts.values() if a.startswith(OVERDUE))
    soon = sum(1 for a in alerts.values() if a.startswith(DUE_SOON))
    if overdue:
        st.error(f"{overdue} demande(s) en retard : la réponse est due depuis l'échéance indiquée.")
    if soon:
        st.warning(f"{soon} demande(s) à traiter dans les sept jours.")
    ordered = sorted(rows, key=lambda r: (r["statut"] in rights.CLOSED_STATES, rights.deadline(r) or date.max))
    frame = pd.DataFrame([{
        "ID": r.id, "Échéance": fr_date(rights.deadline(r)) if rights.deadline(r) else "", "Alerte": alerts[r.id],
        "Statut": r["statut"], "Type": r["type"], "Reçue le": fr_date(r["recue_le"]), "Personne": request_person(r),
    } for r in ordered])
    colour = frame.style.apply(lambda line: [ALERT_COLORS.get(line["Alerte"].split(" (")[0], "")] * len(line), axis=1)
    st.dataframe(colour, hide_index=True, width="stretch")


def new_request_form() -> None:
    with st.expander("Enregistrer une demande reçue (courriel, courrier, formulaire…)"):
        picked = pick_person("new_request")
        kind = st.selectbox("Type de demande", store.schema.lists["types_demande"], key="new_request_kind")
        received = st.date_input("Reçue le", value=today, max_value=today, format="DD/MM/YYYY",
                                 key="new_request_received")
        notes = st.text_area("Notes", max_chars=2000, key="new_request_notes")
        recorded = Feedback("rgpd_new_request")
        if st.button("Enregistrer la demande", type="primary", disabled=picked is None, key="new_request_go"):
            tab, person = picked
            recorded.run(lambda: rights.open_request(store, snapshot, user, tab, person.id, kind, received, notes),
                         lambda row: f"Demande {row.id} enregistrée : réponse due au plus tard le "
                                     f"{fr_date(row['echeance'])}.", rerun=True)
        recorded.show(user, ctx.snapshot())


def follow_up_form(rows) -> None:
    open_rows = [r for r in rows if r["statut"] not in rights.CLOSED_STATES]
    followed = Feedback("rgpd_follow")
    if not open_rows:  # the last open request was just closed: its confirmation still shows
        followed.show(user, ctx.snapshot())
        return
    with st.expander("Suivre, prolonger ou clore une demande"):
        labels = {r.id: f"{r.id} — {r['type']} — {request_person(r)}" for r in open_rows}
        chosen = snapshot.get("Demandes RGPD", st.selectbox("Demande", list(labels), format_func=labels.get,
                                                            key="follow_request"))
        limit = first_month_end(chosen)
        st.caption("Prolongation de deux mois (échéance à trois mois de la réception) pour une demande complexe, "
                   "à condition d'en informer la personne dans le mois suivant la réception"
                   + (f", soit au plus tard le {limit:%d/%m/%Y}." if limit else "."))
        if chosen["prolongation_informee_le"]:
            st.info(plain(f"Déjà prolongée : personne informée le {fr_date(chosen['prolongation_informee_le'])}, "
                          f"échéance le {fr_date(chosen['echeance'])}."))
        informed = st.date_input("Personne informée de la prolongation le", value=today, format="DD/MM/YYYY",
                                 key="follow_informed")
        if st.button("Prolonger l'échéance", key="follow_extend"):
            followed.run(lambda: rights.extend(store, snapshot, user, chosen.id, informed),
                         lambda row: f"Échéance de {row.id} prolongée au {fr_date(row['echeance'])}.", rerun=True)
        if rights.request_status(chosen) == "reçue" and st.button("Marquer « en cours »", key="follow_start"):
            followed.run(lambda: rights.start_request(store, snapshot, user, chosen.id),
                         f"Demande {chosen.id} en cours.", rerun=True)
        status = st.selectbox("Clore avec le statut", list(rights.CLOSED_STATES), key="follow_status")
        if st.button("Clore la demande", key="follow_close"):
            followed.run(lambda: rights.close_request(store, snapshot, user, chosen.id, status, today),
                         f"Demande {chosen.id} close ({status}).", rerun=True)
        followed.show(user, ctx.snapshot())


def requests_section() -> None:
    rows = snapshot.rows("Demandes RGPD")
    st.caption("Réponse due dans le mois suivant la réception (article 12 du RGPD), prolongeable de deux mois.")
    if rows:
        requests_table(rows)
    else:
        st.info("Aucune demande enregistrée. Ajoutez-en une ci-dessous dès réception.")
    new_request_form()
    follow_up_form(rows)


# ---- one person -------------------------------------------------------------------------------------------


def export_box(tab: str, person) -> None:
    st.markdown("**Droit d'accès** — toutes les données détenues sur la personne (fiche, rencontres, partenariats, "
                "événements, demandes, journal) en JSON et CSV. La préparation de l'export est inscrite au journal.")
    prepared = Feedback("rgpd_export")

    def prepare() -> None:
        st.session_state[EXPORT] = (person.id, rights.access_export(snapshot, tab, person.id, store=store, user=user))

    if st.button("Préparer l'export d'accès", key=f"export_{person.id}"):
        prepared.run(prepare)
    prepared.show()
    ready = st.session_state.get(EXPORT)
    if ready and ready[0] == person.id:
        st.download_button("Télécharger l'export (zip)", ready[1], file_name=f"acces-{person.id}.zip",
                           mime="application/zip", key=f"export_zip_{person.id}")


def consent_state(person, field: str) -> str:
    given = person[field]
    if not given:
        return "non donné"
    return (f"donné le {fr_datetime(given)} — notice {person['consentement_version'] or '?'}, "
            f"source {person['consentement_source'] or '?'}")


def consent_box(tab: str, person) -> None:
    st.markdown("**Consentements** — le retrait prend effet immédiatement : plus aucune divulgation de coordonnées.")
    changed = Feedback("rgpd_consent")
    changed.show(user, ctx.snapshot())
    for purpose, label in PURPOSES.items():
        field = consent.PURPOSE_FIELDS[purpose]
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.markdown(f"{label} : {plain(consent_state(person, field))}")
        if person[field] and right.button("Retirer", key=f"withdraw_{purpose}_{person.id}"):
            changed.run(lambda p=purpose: consent.withdraw_consent(store, snapshot, user, tab, person.id, p),
                        f"Consentement « {PURPOSES[purpose].lower()} » retiré et journalisé.", rerun=True)
    missing = [p for p in PURPOSES if not person[consent.PURPOSE_FIELDS[p]]]
    if not missing:
        return
    with st.expander("Enregistrer un consentement recueilli hors de l'outil (papier, courriel…)"):
        purpose = st.selectbox("Finalité", missing, format_func=PURPOSES.get, key=f"give_purpose_{person.id}")
        version = st.text_input("Version de la notice présentée", key=f"give_version_{person.id}",
                                value=parameters.parameter(snapshot, "version_notice"))
        sources = store.schema.lists["sources_consentement"]
        source = st.selectbox("Source", sources, index=sources.index("coordinateur") if "coordinateur" in sources
                              else 0, key=f"give_source_{person.id}")
        st.caption("Le consentement est daté d'aujourd'hui ; conservez le document signé.")
        if st.button("Enregistrer le consentement", key=f"give_{person.id}"):
            changed.run(lambda: consent.give_consent(store, snapshot, user, tab, person.id, purpose, source, version),
                        f"Consentement « {PURPOSES[purpose].lower()} » enregistré et journalisé.", rerun=True)


def anonymise_box(tab: str, person) -> None:
    st.markdown("**Effacement (anonymisation)** — le nom devient un pseudonyme neutre, les coordonnées, les textes "
                "libres et les consentements sont vidés, y compris ses attendus et conclusions dans les rencontres. "
                "**Restent** les identifiants et les catégories (département, fonction, thématiques, statuts des "
                "rencontres…) pour que les statistiques du bilan ne changent pas. Opération définitive.")
    anonymised = Feedback("rgpd_anonymise")
    anonymised.show(user, ctx.snapshot())
    note = st.session_state.get(ANONYMISED_NOTE)
    if note and note[0] == person.id:  # shown once: values the app does not write, for a person to look at
        st.session_state.pop(ANONYMISED_NOTE)
        if note[1]:
            st.warning(plain(note[1]))
    if rights.is_anonymised(tab, person):
        st.info("Cette fiche est déjà anonymisée.")
        return
    sure = st.checkbox(f"Je confirme l'anonymisation définitive de {plain(person_label(tab, person))}",
                       key=f"anon_ok_{person.id}")
    if st.button("Anonymiser", type="primary", disabled=not sure, key=f"anon_{person.id}") and sure:
        anonymised.run(lambda: rights.anonymise(store, snapshot, user, tab, person.id), anonymised_message,
                       rerun=True)


def anonymised_message(result: rights.AnonymisationResult) -> str:
    st.session_state[ANONYMISED_NOTE] = (result.row.id, result.warning_fr())
    return f"Fiche {result.row.id} anonymisée ({len(result.meetings)} rencontre(s) nettoyée(s))."


def person_section() -> None:
    picked = pick_person("person")
    if picked is None:
        return
    tab, person = picked
    st.subheader(plain(person_label(tab, person)))
    st.page_link(f"pages/{tab.lower()}.py", label="Droit de rectification : corriger la fiche", icon=":material/edit:",
                 query_params={"id": person.id})
    export_box(tab, person)
    consent_box(tab, person)
    anonymise_box(tab, person)


# ---- retention --------------------------------------------------------------------------------------------


def inactive_table(current) -> list:
    inactive = retention.inactive_people(current, today)
    if not inactive:
        st.success("Aucune fiche inactive à anonymiser.")
    else:
        st.dataframe([{"Onglet": p.tab, "Personne": person_label(p.tab, current.get(p.tab, p.id)),
                       "Dernière activité": fr_date(p.last_activity)} for p in inactive], hide_index=True)
    return inactive


def inactive_section() -> None:
    months = parameters.int_parameter(snapshot, "retention_mois")
    st.markdown(f"**Fiches inactives** — sans mise à jour ni rencontre depuis plus de {months} mois (réglage "
                "`retention_mois` de l'onglet Parametres).")
    table = st.container()
    inactive = retention.inactive_people(snapshot, today)
    if not inactive:
        with table:
            inactive_table(snapshot)
        return
    sure = st.checkbox(f"Je confirme l'anonymisation définitive de ces {len(inactive)} fiche(s)", key="retention_ok")
    clicked = st.button("Anonymiser les fiches inactives", disabled=not sure, key="retention_go") and sure
    current = snapshot
    if clicked:
        bar = st.progress(0.0, text=f"Anonymisation de {len(inactive)} fiche(s)…")
        outcome: dict = {}

        def anonymise_all() -> int:
            outcome["done"], outcome["notes"] = retention.anonymise_inactive(
                store, snapshot, user, today, confirm=True,
                on_progress=lambda n, total: bar.progress(n / total, text=f"{n} / {total} fiche(s) traitée(s)…"))
            return len(outcome["done"])

        swept = Feedback("rgpd_retention")
        if swept.run(anonymise_all, lambda n: f"{n} fiche(s) anonymisée(s) ; chaque anonymisation est journalisée."):
            bar.progress(1.0, text=f"{len(outcome['done'])} / {len(inactive)} fiche(s) anonymisée(s).")
        swept.show(user, ctx.snapshot())
        for note in outcome.get("notes", []):  # people left alone, or values for a person to check
            st.warning(plain(note))
        current = ctx.snapshot()
    with table:
        inactive_table(current)


def journal_purge_section() -> None:
    months = parameters.int_parameter(snapshot, "journal_retention_mois")
    cutoff = retention.journal_cutoff(snapshot, today)
    old = retention.old_journal_entries(snapshot, today)
    st.markdown(f"**Journal** — conservé {months} mois (réglage `journal_retention_mois`) : les entrées antérieures "
                f"au {cutoff:%d/%m/%Y} sont à supprimer.")
    purged = Feedback("rgpd_purge")
    purged.show(user, ctx.snapshot())
    if not old:
        st.success("Aucune entrée du journal au-delà de la durée de conservation.")
        return
    ids = [row.id for row in old]
    if st.button("Simuler la purge (rien n'est supprimé)", key="purge_preview"):
        st.session_state[PREVIEW] = ids
    if st.session_state.get(PREVIEW) != ids:
        st.caption(f"{len(old)} entrée(s) concernée(s). Lancez d'abord la simulation pour voir ce qui serait supprimé.")
        return
    st.info(f"Simulation : {len(old)} entrée(s) seraient supprimées, du {fr_datetime(old[0]['horodatage'])} au "
            f"{fr_datetime(old[-1]['horodatage'])}. La purge elle-même sera inscrite au journal.")
    st.dataframe([{"ID": r.id, "Horodatage": fr_datetime(r["horodatage"]), "Action": r["action"],
                   "Onglet": r["cible_tab"], "ID cible": r["cible_id"]} for r in old], hide_index=True)
    sure = st.checkbox(f"Je confirme la suppression de ces {len(old)} entrée(s) du journal", key="purge_ok")
    if st.button("Purger le journal", disabled=not sure, key="purge_go") and sure:
        st.session_state.pop(PREVIEW, None)
        purged.run(lambda: retention.purge_journal(store, snapshot, today, user=user),
                   lambda count: f"{count} entrée(s) supprimée(s) du journal.", rerun=True)


def retention_section() -> None:
    if not access.allowed(user, access.RUN_PURGE):
        st.info("Votre rôle ne permet pas de lancer les purges de conservation.")
        return
    inactive_section()
    st.divider()
    journal_purge_section()


requests_tab, person_tab, retention_tab = st.tabs(["Demandes", "Une personne", "Conservation"])
with requests_tab:
    requests_section()
with person_tab:
    person_section()
with retention_tab:
    retention_section()

"""The Entreprises and Personnels screens: list, create, edit, archive, validate. All rules live in the services.

The public registration pages (`render_registration`) share the same schema-driven fields.
"""

from __future__ import annotations

import math
import uuid
from urllib.parse import quote

import streamlit as st

from ecole_entreprise.domain import communes
from ecole_entreprise.domain.values import format_datetime, now_paris
from ecole_entreprise.services.census import records as census
from ecole_entreprise.services.census import registration
from ecole_entreprise.services.kernel import access, journal
from ecole_entreprise.services.kernel.parameters import parameters
from ecole_entreprise.services.privacy import consent
from ecole_entreprise.services.privacy.documents import privacy_notice
from ecole_entreprise.store.base import Conflict, StoreError
from pages._feedback import field_error, show_conflict
from pages._plain import plain, plain_rows, plain_values
from pages._shared import (
    data_location_caption,
    field_widget,
    fr_datetime,
    get_settings,
    get_snapshot,
    get_store,
    refresh_button,
    todo_filter,
)

# Set by the services or by dedicated actions, never typed in the form.
MANAGED = {"id", "created_at", "updated_at", "commune", "commune_insee", "departement", "academie", "statut",
           "source", "consentement_participation", "consentement_partage", "consentement_version",
           "consentement_source", "informer_avant"}
PLACE_FIELDS = ("code_postal", "commune_insee", "commune", "departement")
FILTERS = ("departement", "statut", "thematiques")
PAGE_SIZE = 25
# Columns shown first in the lists (the others follow, scrolled to the right).
FIRST_COLUMNS = {
    "Entreprises": ("id", "raison_sociale", "commune", "departement", "statut", "contact_nom", "contact_prenom",
                    "thematiques", "formats"),
    "Personnels": ("id", "nom", "prenom", "fonction", "etablissement", "commune", "departement", "statut",
                   "thematiques"),
}
FLASH = "_census_flash"


def render(tab_name: str, user) -> None:
    store = get_store()
    tab = store.schema.tab(tab_name)
    st.title(plain(tab_name))
    st.caption(data_location_caption())
    refresh_button()
    if FLASH in st.session_state:
        st.success(plain(st.session_state.pop(FLASH)))
    selected = st.query_params.get("id", "")
    if selected and not selected.startswith(f"{tab.id_prefix}-"):
        selected = ""  # an ID left in the address by another page
    can_edit = access.allowed(user, census.EDIT_PERMISSIONS[tab_name])
    if selected:
        _record_view(store, user, tab, selected, can_edit)
        return
    list_tab, new_tab = st.tabs(["Liste", "Nouvelle fiche"], key=f"view_{tab.name}", on_change="rerun")
    with list_tab:
        _list_view(get_snapshot(), user, tab)
    with new_tab:
        if can_edit:
            _record_form(store, user, tab, None)
        else:
            st.info("Votre rôle ne permet pas de créer de fiche dans cet onglet.")


def _open(row_id: str) -> None:
    st.query_params["id"] = row_id
    st.rerun()


def _close() -> None:
    st.query_params.pop("id", None)
    st.rerun()


def _reset(prefix: str) -> None:
    """Forget a form's inputs and state, so it is rebuilt from the sheet's current row."""
    for name in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[name]


# ---- list -------------------------------------------------------------------------------------------------


def _only_pending(tab_name: str) -> None:
    st.session_state[f"f_{tab_name}_statut"] = [census.PENDING]
    st.session_state[f"q_{tab_name}"] = ""


def _list_view(snapshot, user, tab) -> None:
    rows = access.visible_rows(user, tab.name, snapshot)
    if not rows:
        st.info("Aucune fiche pour l'instant. Créez-en une dans l'onglet « Nouvelle fiche », importez un fichier "
                "(page Import) ou saisissez des lignes directement dans la feuille.")
        return
    wanted = todo_filter(snapshot, user, tab.name)
    if wanted is not None:
        rows = [r for r in rows if r["id"] in wanted]
    pending = sum(1 for r in rows if r.get("statut") == census.PENDING)
    if pending and wanted is None:
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.info(f"{pending} inscription(s) « {census.PENDING} » : ouvrez chaque fiche pour la vérifier et la "
                  "valider.")
        right.button("Afficher les inscriptions à valider", key=f"show_pending_{tab.name}", on_click=_only_pending,
                     args=(tab.name,))
    query = st.text_input("Rechercher", placeholder="Nom, commune, thématique, ID…", key=f"q_{tab.name}")
    columns = st.columns(len(FILTERS) + 1)
    filters = {name: column.multiselect(tab.field(name).header, list(tab.field(name).choices),
                                        key=f"f_{tab.name}_{name}", select_all=False, placeholder="Tous")
               for column, name in zip(columns, FILTERS, strict=False)}
    _, total = census.list_frame(rows, tab.name, query=query, filters=filters, page=1, page_size=PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(int(columns[-1].number_input("Page", min_value=1, value=1, step=1, key=f"p_{tab.name}")), pages)
    frame, total = census.list_frame(rows, tab.name, query=query, filters=filters, page=page, page_size=PAGE_SIZE)
    st.caption(f"{total} fiche(s) sur {len(rows)} — page {page} sur {pages}. Cochez la case au début d'une ligne "
               "pour ouvrir la fiche.")
    if total == 0:
        st.info("Aucune fiche ne correspond à la recherche.")
        return
    journal.record_consultation(get_store(), user, tab.name, frame["ID"].tolist())  # CNIL: who saw which page
    first = [tab.field(name).header for name in FIRST_COLUMNS.get(tab.name, ()) if tab.field(name).header in frame]
    order = first + [c for c in frame.columns if c not in first]
    event = st.dataframe(frame, hide_index=True, width="stretch", column_order=order, on_select="rerun",
                         selection_mode="single-row", key=f"table_{tab.name}_{page}")
    if event.selection.rows:
        _open(str(frame["ID"].iloc[event.selection.rows[0]]))


# ---- one record -------------------------------------------------------------------------------------------


def _record_view(store, user, tab, row_id: str, can_edit: bool) -> None:
    if st.button("← Retour à la liste", key="back_to_list"):
        _close()
    # Read the sheet afresh when the form is opened: it saves against this version.
    snapshot = get_snapshot(fresh=can_edit and _form_key(tab, row_id) not in st.session_state)
    row = snapshot.get(tab.name, row_id)
    if row is None:
        st.warning(f"La fiche {plain(row_id)} est introuvable (supprimée ou hors de votre périmètre).")
        return
    try:
        visible = access.mask_record(user, tab.name, row, snapshot)
    except access.AccessDenied as denied:
        st.error(plain(denied))
        return
    journal.record_consultation(get_store(), user, tab.name, [row_id], "fiche", sorted(visible))
    st.subheader(plain(f"{_record_title(tab, visible)} — {row_id}"))
    st.caption(plain(f"Statut : {row['statut'] or '—'} · source : {row['source'] or '—'} · créée le "
                     f"{fr_datetime(row['created_at']) or '—'} · modifiée le {fr_datetime(row['updated_at']) or '—'}"))
    if not (can_edit and access.row_in_scope(user, tab.name, row, snapshot)):
        _read_only(tab, visible)
        return
    if row["statut"] == census.PENDING:
        _validation_box(store, snapshot, user, tab, row)
    elif row["statut"] == registration.TO_CONFIRM:
        st.info(plain(registration.address_line(snapshot, tab.name, row)))
    _record_form(store, user, tab, row)
    _consent_box(store, snapshot, user, tab, row)
    _archive_box(store, snapshot, user, tab, row)


def _record_title(tab, values: dict) -> str:
    if "raison_sociale" in tab.field_names:
        return values.get("raison_sociale", "") or "Entreprise"
    name = f"{values.get('prenom', '')} {values.get('nom', '')}".strip()
    return name or "Fiche"


def _read_only(tab, visible: dict) -> None:
    st.info("Consultation seule : votre rôle ou votre périmètre ne permet pas de modifier cette fiche.")
    st.table(plain_rows([{"Champ": tab.field(name).header, "Valeur": value}
                         for name, value in visible.items() if value and name in tab.field_names]))


def _show_duplicates(duplicates, key: str) -> None:
    st.warning("Fiche(s) probablement identique(s) déjà présente(s) :")
    for dup in duplicates:
        left, right = st.columns([4, 1])
        # The app's own link to the record: its ID is quoted into the address, never read as Markdown.
        left.markdown(f"- [{plain(dup.row_id)}](?id={quote(dup.row_id, safe='')}) — {plain(dup.reason)}")
        if right.button(f"Ouvrir {plain(dup.row_id)}", key=f"{key}_open_{dup.row_id}"):
            _open(dup.row_id)


# ---- the form ---------------------------------------------------------------------------------------------


def _form_key(tab, row_id: str | None) -> str:
    return f"form_{tab.name}_{row_id or 'new'}"


def _defaults(tab) -> dict[str, str]:
    return {f.name: f.default for f in tab.fields if f.default}


def commune_inputs(tab, current: dict[str, str], key: str) -> dict[str, str]:
    """Postal code first, then a commune that really carries it (any commune of the département for a CEDEX)."""
    cp = st.text_input(tab.field("code_postal").header + " *", value=current.get("code_postal", ""),
                       key=f"{key}_code_postal", max_chars=10, help="5 chiffres ; choisissez ensuite la commune")
    code = cp.replace(" ", "").strip()
    out = {"code_postal": cp}
    options = communes.communes_for_postcode(code) if len(code) == 5 else []
    if not options and len(code) == 5 and code.isdigit():
        options = sorted((c for c in communes.all_communes() if c.departement == code[:2]), key=lambda c: c.nom)
        if options:
            st.warning(f"Aucune commune n'a le code postal {plain(code)} : s'il s'agit d'un code CEDEX, choisissez la "
                       "commune de l'adresse ci-dessous.")
        else:
            st.warning(f"Aucune commune de Bourgogne-Franche-Comté n'a le code postal {plain(code)}.")
    if not options:
        unchanged = code == current.get("code_postal", "")
        out["commune_insee"] = current.get("commune_insee", "") if unchanged else ""
        return out
    codes = [c.insee for c in options]
    index = codes.index(current["commune_insee"]) if current.get("commune_insee") in codes else (
        0 if len(codes) == 1 else None)
    labels = {c.insee: f"{c.nom} ({c.insee})" for c in options}
    insee = st.selectbox("Commune *", codes, index=index, format_func=labels.get, key=f"{key}_commune_{code}",
                         placeholder="Choisir la commune…")
    if insee:
        commune = communes.commune_by_insee(insee)
        out.update(commune_insee=insee, commune=commune.nom, departement=commune.departement)
        for message in communes.postcode_warnings(code, insee):
            st.markdown(f":orange[ℹ {plain(message)}]")
    else:
        out["commune_insee"] = ""
    return out


def _wide(field) -> bool:
    return field.type == "multichoice" or (field.type == "text" and (field.max_length or 0) > 300)


def record_inputs(tab, current: dict[str, str], key: str, errors: dict, warnings: dict,
                  skip: set[str] = frozenset()) -> dict[str, str]:
    """One input per editable field (two per row, long ones alone), each with its French message under it."""
    values: dict[str, str] = {}
    fields = [f for f in tab.fields if f.name == "code_postal" or (f.name not in MANAGED and f.name not in skip)]
    pending: list = []

    def flush() -> None:
        for column, field in zip(st.columns(2), pending, strict=False):
            with column:
                values.update(_one_input(tab, field, current, key, errors, warnings))
        pending.clear()

    for field in fields:
        if _wide(field) or field.name == "code_postal":
            flush()
            values.update(_one_input(tab, field, current, key, errors, warnings))
        else:
            pending.append(field)
            if len(pending) == 2:
                flush()
    flush()
    return values


def _one_input(tab, field, current, key, errors, warnings) -> dict[str, str]:
    if field.name == "code_postal":
        with st.container(border=True):
            out = commune_inputs(tab, current, key)
            for name in PLACE_FIELDS:
                if name != "departement" or "commune_insee" not in errors:  # no commune, no département: say it once
                    field_error(errors, warnings, name)
        return out
    value = field_widget(field, current.get(field.name, ""), key=f"{key}_{field.name}")
    field_error(errors, warnings, field.name)
    return {field.name: value}


def _coordinator_consents(key: str, snapshot) -> dict[str, str]:
    """Consents the coordinator collected (on paper, by phone…): dated now, with the notice version in force."""
    st.markdown("**Consentements recueillis par le coordinateur**")
    participation = st.checkbox("La personne a donné son consentement à participer au programme",
                                key=f"{key}_consent_participation")
    partage = st.checkbox("La personne accepte que ses coordonnées professionnelles soient transmises à la "
                          "personne rencontrée", key=f"{key}_consent_partage")
    if not (participation or partage):
        return {}
    stamp = format_datetime(now_paris())
    return {"consentement_participation": stamp if participation else "",
            "consentement_partage": stamp if partage else "",
            "consentement_version": parameters(snapshot)["version_notice"], "consentement_source": "coordinateur"}


def _record_form(store, user, tab, row) -> None:
    key = _form_key(tab, row.id if row else None)
    if key not in st.session_state:
        # Made once per form: a double click or a retried submit never creates two rows, and an edit is saved
        # against the version the form was built from (a change made meanwhile is a conflict, not overwritten).
        st.session_state[key] = {"client_id": None if row else f"{tab.id_prefix}-{uuid.uuid4().hex[:8].upper()}",
                                 "fingerprint": row.fingerprint if row else "", "errors": {}, "warnings": {},
                                 "duplicates": [], "conflict": None, "message": ""}
    state = st.session_state[key]
    snapshot = get_snapshot()
    if state["conflict"] is not None:
        show_conflict(state["conflict"], user, get_snapshot())
        if st.button("Recharger la fiche (abandonner ma saisie)", key=f"{key}_reload"):
            _reset(key)
            st.rerun()
    if state["errors"].get(""):
        st.error(plain(state["errors"][""]))
    st.markdown("#### " + ("Modifier la fiche" if row else "Nouvelle fiche"))
    current = dict(row.values) if row else _defaults(tab)
    values = record_inputs(tab, current, key, state["errors"], state["warnings"])
    if row is None:
        values.update(_coordinator_consents(key, snapshot))
    confirm = False
    if state["duplicates"]:
        _show_duplicates(state["duplicates"], key)
        confirm = st.checkbox("Je confirme qu'il s'agit d'une autre " +
                              ("entreprise" if tab.name == "Entreprises" else "personne") + " : enregistrer quand même",
                              key=f"{key}_confirm")
    if state["message"]:
        st.error(plain(state["message"]))
    if st.button("Créer la fiche" if row is None else "Enregistrer les modifications", type="primary",
                 key=f"{key}_save"):
        _save(store, snapshot, user, tab, row, values, state, confirm, key)


def _save(store, snapshot, user, tab, row, values, state, confirm, key) -> None:
    try:
        if row is None:
            result = census.create(store, snapshot, user, tab.name, values, client_id=state["client_id"],
                                   confirm_duplicates=confirm)
        else:
            result = census.edit(store, snapshot, user, tab.name, row.id, values, state["fingerprint"],
                                 confirm_duplicates=confirm)
    except StoreError as error:  # access refused, sheet unreachable…: shown as is, nothing saved
        st.error(plain(error))
        return
    if result.ok:
        _reset(key)
        st.session_state[FLASH] = f"Fiche {result.row.id} enregistrée." + _sheet_only_warnings(tab, result)
        _open(result.row.id)
    state.update(errors=dict(result.errors), warnings=dict(result.warnings), duplicates=list(result.duplicates),
                 conflict=result.conflict, message=_failure_message(result))
    st.rerun()


def _sheet_only_warnings(tab, result) -> str:
    """Warnings on columns the form does not show (status, consents…): said with the column's name."""
    hidden = [f"« {tab.field(name).header} » : {message}" for name, message in result.warnings.items()
              if name in MANAGED and name not in PLACE_FIELDS]
    return (" À corriger dans la feuille : " + " ; ".join(hidden)) if hidden else ""


def _failure_message(result) -> str:
    if result.conflict is not None:
        return ""
    if result.errors:
        return "La fiche n'a pas été enregistrée : corrigez les champs signalés en rouge."
    if result.duplicates:
        return "La fiche n'a pas été enregistrée : vérifiez les fiches similaires ci-dessus."
    return ""


# ---- actions on a saved record ----------------------------------------------------------------------------


def _after_action(tab, row, message: str) -> None:
    _reset(_form_key(tab, row.id))  # the row changed: the form must rebuild from the new version
    st.session_state[FLASH] = message
    st.rerun()


def _validation_box(store, snapshot, user, tab, row) -> None:
    key = f"validate_{row.id}"
    with st.container(border=True):
        st.markdown(f"**Inscription « {census.PENDING} »** — reçue par le formulaire public. Vérifiez les "
                    "informations (corrigez-les au besoin ci-dessous), puis validez ; archivez-la si elle est "
                    "fantaisiste ou en double.")
        if line := registration.address_line(snapshot, tab.name, row):
            st.caption(plain(line))
        found = st.session_state.get(key, {})
        confirm = False
        if found.get("duplicates"):
            _show_duplicates(found["duplicates"], key)
            confirm = st.checkbox("Je confirme qu'il ne s'agit pas d'un doublon", key=f"{key}_confirm")
        for message in found.get("errors", {}).values():
            st.error(plain(message))
        if st.button("Valider l'inscription", type="primary", key=f"{key}_go"):
            result = census.validate_pending(store, snapshot, user, tab.name, row.id, row.fingerprint,
                                             confirm_duplicates=confirm)
            if result.ok:
                st.session_state.pop(key, None)
                _after_action(tab, row, f"Inscription {row.id} validée.")
            st.session_state[key] = {"duplicates": list(result.duplicates),
                                     "errors": {k: _field_message(tab, k, v) for k, v in result.errors.items()}}
            st.rerun()


def _field_message(tab, name: str, message: str) -> str:
    return f"{tab.field(name).header} : {message}" if name in tab.field_names else message


def _consent_line(row, name: str, label: str) -> str:
    when = fr_datetime(row[name])
    return f"- {label} : " + (plain(f"donné le {when} (notice {row['consentement_version'] or '—'}, source "
                                    f"{row['consentement_source'] or '—'})") if when else "**non recueilli**")


def _consent_box(store, snapshot, user, tab, row) -> None:
    with st.expander("Consentements"):
        st.markdown(_consent_line(row, "consentement_participation", "Participation au programme") + "\n" +
                    _consent_line(row, "consentement_partage", "Partage des coordonnées professionnelles"))
        for purpose, label in (("participation", "à participer"), ("partage", "au partage des coordonnées")):
            given = bool(row[consent.PURPOSE_FIELDS[purpose]].strip())
            action = "Retirer" if given else "Enregistrer"
            suffix = "" if given else " (recueilli ce jour)"
            if st.button(f"{action} le consentement {label}{suffix}", key=f"consent_{purpose}_{row.id}"):
                try:
                    if given:
                        consent.withdraw_consent(store, snapshot, user, tab.name, row.id, purpose)
                    else:
                        consent.give_consent(store, snapshot, user, tab.name, row.id, purpose, "coordinateur")
                except Conflict as conflict:
                    show_conflict(conflict, user, get_snapshot())
                    return
                except StoreError as error:
                    st.error(plain(error))
                    return
                _after_action(tab, row, "Consentement retiré." if given else "Consentement enregistré.")


def _archive_box(store, snapshot, user, tab, row) -> None:
    if row["statut"] == census.ARCHIVED:
        st.info("Cette fiche est archivée : elle n'apparaît plus dans les suggestions.")
        return
    with st.expander("Archiver cette fiche"):
        st.write("La fiche n'apparaîtra plus dans les suggestions d'appariement ; elle n'est pas supprimée et "
                 "l'historique des rencontres est conservé.")
        sure = st.checkbox("Je confirme l'archivage", key=f"archive_ok_{row.id}")
        if st.button("Archiver", disabled=not sure, key=f"archive_{row.id}"):
            try:
                result = census.archive(store, snapshot, user, tab.name, row.id, row.fingerprint)
            except StoreError as error:
                st.error(plain(error))
                return
            if result.conflict is not None:
                show_conflict(result.conflict, user, get_snapshot())
            elif result.errors:
                st.error(plain(" ".join(result.errors.values())))
            else:
                _after_action(tab, row, f"Fiche {row.id} archivée.")


# ---- public self-registration -----------------------------------------------------------------------------

PUBLIC_SKIP = {"notes"}  # besides MANAGED: coordinators' notes are not asked to the public
HONEYPOT = "website"  # a field people never see (hidden by CSS); bots filling every input give themselves away


def _client_key() -> str:
    session = st.session_state.setdefault("_client_session", uuid.uuid4().hex)
    address = st.context.ip_address
    address = address if isinstance(address, str) else None  # test harnesses give a stand-in object
    hops = get_settings().registration.trusted_proxy_hops
    return registration.client_key(st.context.headers.get("X-Forwarded-For") or "", address, session, hops)


def _notice(snapshot) -> None:
    params = parameters(snapshot)
    version = registration.notice_version(snapshot)
    with st.container(border=True):
        st.markdown(f"**Protection de vos données** — notice d'information, version {plain(version)}")
        st.markdown(f"Vos informations servent uniquement à organiser les rencontres du programme « Les chefs "
                    f"d'entreprise invitent l'Éducation nationale ». Responsable du traitement : "
                    f"{plain(params['responsable_traitement'])}. Délégué à la protection des données : "
                    f"{plain(params['dpo_contact'])}. Vous pouvez retirer vos consentements à tout moment.")
        from pages._shell import PUBLIC_PAGES  # the menu of this session: link only to a page it offers

        if "confidentialite" in PUBLIC_PAGES:
            st.page_link(PUBLIC_PAGES["confidentialite"].path, label="Lire la page Confidentialité",
                         icon=":material/lock:")
        with st.expander("Afficher la notice complète"):
            st.markdown(privacy_notice(plain_values(params)))


def _consent_inputs(key: str, errors: dict) -> dict[str, bool]:
    st.markdown("**Vos consentements**")
    participation = st.checkbox("J'accepte de participer au programme et que mes informations soient utilisées "
                                "pour organiser des rencontres (obligatoire) *", value=False,
                                key=f"{key}_participation")
    field_error(errors, {}, "consentement_participation")
    partage = st.checkbox("J'accepte que mes coordonnées professionnelles (email, téléphone) soient transmises à "
                          "la personne que je rencontrerai (facultatif)", value=False, key=f"{key}_partage")
    return {"participation": participation, "partage": partage}


def _confirmation_mail(tab_name: str, row_id: str) -> str:
    """Double opt-in: the confirmation and withdrawal links by email, when links and SMTP are configured."""
    from ecole_entreprise.services.links import actions as link_actions
    from ecole_entreprise.services.links import mail as link_mail
    from pages._shared import get_settings

    settings = get_settings()
    if not (row_id and settings.links.configured and settings.smtp.configured):
        return ""
    try:
        link_mail.send_registration_links(get_store(), get_snapshot(fresh=True), settings.links, settings.smtp,
                                          tab_name, row_id)
    except link_actions.Refused:
        return " Le courriel de confirmation n'a pas pu être envoyé : un coordinateur vous contactera."
    return " Un courriel vient de vous être envoyé : ouvrez le lien qu'il contient pour confirmer votre inscription."


def render_registration(tab_name: str, title: str, intro: str) -> None:
    """A public form: no login, lands "à valider" through registration.submit (limits, honeypot, consents)."""
    store = get_store()
    tab = store.schema.tab(tab_name)
    key = f"signup_{tab_name}"
    st.title(title)
    if token := st.query_params.get(registration.CONFIRM_PARAM):
        _confirm(store, token)
        return
    if st.session_state.get(f"{key}_done"):
        st.success(plain(st.session_state[f"{key}_done"]))
        if st.button("Faire une autre inscription", key=f"{key}_again"):
            st.session_state.pop(f"{key}_done")
            st.rerun()
        return
    st.write(intro)
    snapshot = get_snapshot()
    _notice(snapshot)
    state = st.session_state.setdefault(key, {"submission_id": f"{tab.id_prefix}-{uuid.uuid4().hex[:8].upper()}",
                                              "errors": {}, "message": ""})
    st.html(f"<style>.st-key-{key}_{HONEYPOT} {{display: none !important;}}</style>")
    values = record_inputs(tab, _defaults(tab), key, state["errors"], {}, skip=PUBLIC_SKIP)
    honeypot = st.text_input("Site web (laissez ce champ vide)", key=f"{key}_{HONEYPOT}", max_chars=200)
    consents = _consent_inputs(key, state["errors"])
    if state["errors"].get(""):
        st.error(plain(state["errors"][""]))
    if state["message"]:
        st.error(plain(state["message"]))
    if st.button("Envoyer mon inscription", type="primary", key=f"{key}_send"):
        settings = get_settings()
        result = registration.submit(store, snapshot, tab_name, values, consents, honeypot, _client_key(),
                                     now_paris(), submission_id=state["submission_id"],
                                     settings=settings.registration,
                                     opt_in=registration.OptIn(settings.registration, settings.smtp))
        if result.accepted:
            _reset(key)
            extra = "" if result.confirmation_sent else _confirmation_mail(tab_name, result.row_id)
            st.session_state[f"{key}_done"] = result.message + extra  # one confirmation email, never two
        else:
            state.update(errors=dict(result.errors), message=result.message)
        st.rerun()


def _confirm(store, token: str) -> None:
    """The link of the confirmation email: one click confirms, a reload says it is already done."""
    try:
        result = registration.confirm(store, get_snapshot(fresh=True), token, now_paris(),
                                      get_settings().registration)
    except StoreError as error:
        st.error(plain(error))
        return
    (st.success if result.ok else st.error)(plain(result.message))

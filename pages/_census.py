"""The Entreprises and Personnels screens: list, create, edit, archive, validate (one or several), export. All
rules live in the services; every outcome is told by pages/_feedback.Feedback where the person acted.

The public registration pages (`render_registration`) share the same schema-driven fields.
"""

from __future__ import annotations

import math
import uuid
from urllib.parse import quote

import streamlit as st

from ecole_entreprise import bootstrap, errors
from ecole_entreprise.services.census import bulk, registration
from ecole_entreprise.services.census import exports as list_exports
from ecole_entreprise.services.census import records as census
from ecole_entreprise.services.kernel import access, forms, journal
from ecole_entreprise.services.kernel.parameters import parameters
from ecole_entreprise.services.privacy import consent
from ecole_entreprise.services.privacy.documents import privacy_notice
from pages._feedback import Feedback, field_error
from pages._plain import plain, plain_rows, plain_values
from pages._shared import (
    data_location_caption,
    field_widget,
    fr_datetime,
    get_settings,
    get_snapshot,
    get_store,
    journaled_download,
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
LIST_TAB = "Liste"
# Columns shown first in the lists (the others follow, scrolled to the right).
FIRST_COLUMNS = {
    "Entreprises": ("id", "raison_sociale", "commune", "departement", "statut", "contact_nom", "contact_prenom",
                    "thematiques", "formats"),
    "Personnels": ("id", "nom", "prenom", "fonction", "etablissement", "commune", "departement", "statut",
                   "thematiques"),
}
EVERY_MESSAGE = ("",)  # `fields_shown` of an area without fields: each message is listed there


def render(tab_name: str, ctx) -> None:
    tab = ctx.store.schema.tab(tab_name)
    st.title(plain(tab_name))
    st.caption(data_location_caption())
    refresh_button()
    _flash(tab).show(ctx.user, ctx.snapshot())
    selected = st.query_params.get("id", "")
    if selected and not selected.startswith(f"{tab.id_prefix}-"):
        selected = ""  # an ID left in the address by another page
    can_edit = access.allowed(ctx.user, census.EDIT_PERMISSIONS[tab_name])
    if selected:
        _record_view(ctx, tab, selected, can_edit)
        return
    list_tab, new_tab = st.tabs([LIST_TAB, "Nouvelle fiche"], key=_view_key(tab), on_change="rerun")
    with list_tab:
        _list_view(ctx, tab, can_edit)
    with new_tab:
        if can_edit:
            _record_form(ctx, tab, None)
        else:
            st.info("Votre rôle ne permet pas de créer de fiche dans cet onglet.")


def _flash(tab) -> Feedback:
    """The page-wide confirmation of the last action (a saved, validated, archived record…), shown on top."""
    return Feedback(f"census_{tab.name}")


def _announce(tab, message: str) -> None:
    _flash(tab).succeed(message)


def _open(row_id: str) -> None:
    st.query_params["id"] = row_id
    st.rerun()


def _close(tab) -> None:
    """Back to the list, on the « Liste » tab: the tab last chosen may survive in the session when the person
    clicks before the record's run has ended."""
    st.query_params.pop("id", None)
    st.session_state[_view_key(tab)] = LIST_TAB
    st.rerun()


def _view_key(tab) -> str:
    return f"view_{tab.name}"


def _reset(prefix: str) -> None:
    """Forget a form's inputs and state, so it is rebuilt from the sheet's current row."""
    for name in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[name]
    Feedback(prefix).clear()


# ---- list -------------------------------------------------------------------------------------------------


def _only_pending(tab_name: str) -> None:
    st.session_state[f"f_{tab_name}_statut"] = [census.PENDING]
    st.session_state[f"q_{tab_name}"] = ""


def _list_view(ctx, tab, can_edit: bool) -> None:
    snapshot, user = ctx.snapshot(), ctx.user
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
                  "valider, ou validez-en plusieurs à la fois ci-dessous.")
        right.button("Afficher les inscriptions à valider", key=f"show_pending_{tab.name}", on_click=_only_pending,
                     args=(tab.name,))
    if can_edit:
        _bulk_validation(ctx, tab, snapshot)
    query = st.text_input("Rechercher", placeholder="Nom, commune, thématique, ID…", key=f"q_{tab.name}")
    columns = st.columns(len(FILTERS) + 1)
    filters = {name: column.multiselect(tab.field(name).header, list(tab.field(name).choices),
                                        key=f"f_{tab.name}_{name}", select_all=False, placeholder="Tous")
               for column, name in zip(columns, FILTERS, strict=False)}
    kept = census.filter_rows(rows, tab.name, query, filters)
    pages = max(1, math.ceil(len(kept) / PAGE_SIZE))
    page = min(int(columns[-1].number_input("Page", min_value=1, value=1, step=1, key=f"p_{tab.name}")), pages)
    frame, total = census.page_frame(rows, kept, tab.name, page=page, page_size=PAGE_SIZE), len(kept)
    st.caption(f"{total} fiche(s) sur {len(rows)} — page {page} sur {pages}. Cochez la case au début d'une ligne "
               "pour ouvrir la fiche.")
    if total == 0:
        st.info("Aucune fiche ne correspond à la recherche.")
        return
    journal.record_consultation(ctx.store, user, tab.name, frame["ID"].tolist())  # CNIL: who saw which page
    first = [tab.field(name).header for name in FIRST_COLUMNS.get(tab.name, ()) if tab.field(name).header in frame]
    order = first + [c for c in frame.columns if c not in first]
    event = st.dataframe(frame, hide_index=True, width="stretch", column_order=order, on_select="rerun",
                         selection_mode="single-row", key=f"table_{tab.name}_{page}")
    if event.selection.rows:
        _open(str(frame["ID"].iloc[event.selection.rows[0]]))
    _export(ctx, tab, kept)


def _export(ctx, tab, kept: list[dict]) -> None:
    """The list as searched and filtered (every page), only the columns this role may see; journaled first."""
    if not list_exports.may_export(ctx.user):
        return
    signature, cached = list_exports.rows_signature(tab.name, kept), st.session_state.get(f"export_{tab.name}_file")
    if cached is None or cached[0] != signature:
        cached = st.session_state[f"export_{tab.name}_file"] = (signature, list_exports.list_export(ctx.user, tab.name,
                                                                                                   kept))
    export = cached[1]
    journaled_download(f"la liste affichée ({len(kept)} fiche(s), CSV)", export.data, export.file_name,
                       list_exports.MIME, f"export_{tab.name}",
                       lambda: list_exports.journal_list_export(ctx.store, ctx.user, export))


# ---- several records « à valider » at once -----------------------------------------------------------------


def _bulk_keys(tab) -> tuple[str, str, str]:
    """The multiselect, the pending confirmation, the outcomes of the last run."""
    return f"bulk_{tab.name}", f"bulk_{tab.name}_confirm", f"bulk_{tab.name}_outcomes"


def _bulk_cancel(tab) -> None:
    st.session_state.pop(_bulk_keys(tab)[1], None)


def _bulk_ask(tab) -> None:
    st.session_state[_bulk_keys(tab)[1]] = True


def _bulk_validation(ctx, tab, snapshot) -> None:
    pick, confirm, done = _bulk_keys(tab)
    choices = bulk.pending_choices(ctx.user, tab.name, snapshot)
    outcomes = st.session_state.get(done)
    if not choices and not outcomes:
        return
    # The names are sent to the browser only once asked for, and that consultation is journaled.
    if not st.toggle(f"Valider plusieurs inscriptions « {census.PENDING} » à la fois ({len(choices)})",
                     key=f"{pick}_on"):
        return
    journal.record_consultation(ctx.store, ctx.user, tab.name, list(choices), "liste à valider")
    with st.container(border=True):
        chosen = [c for c in st.multiselect("Fiches à valider", list(choices), format_func=choices.get, key=pick,
                                            select_all=False, placeholder="Choisir les fiches…") if c in choices]
        if not st.session_state.get(confirm):
            st.button(f"Valider les {len(chosen)} fiche(s) choisie(s)…", key=f"{pick}_ask", disabled=not chosen,
                      on_click=_bulk_ask, args=(tab,))
        else:
            _bulk_confirm(ctx, tab, snapshot, chosen)
        Feedback(pick).show(ctx.user, snapshot, fields_shown=EVERY_MESSAGE)
        refused = [o for o in outcomes or [] if not o.validated]
        if refused:
            st.markdown("**Fiches non validées** (ouvrez-les pour les corriger) :")
            st.table(plain_rows([{"Fiche": o.label, "Motif": o.reason} for o in refused]))


def _bulk_confirm(ctx, tab, snapshot, chosen: list[str]) -> None:
    pick, _, done = _bulk_keys(tab)
    st.warning(f"Valider {len(chosen)} fiche(s) ? Chacune passe « {census.VALIDATED} » (et est journalisée) si elle "
               "est complète, a son consentement à participer et n'est pas un doublon probable ; les autres restent "
               f"« {census.PENDING} », avec leur motif.")
    yes, no = st.columns(2)
    no.button("Annuler", key=f"{pick}_cancel", on_click=_bulk_cancel, args=(tab,))
    if not yes.button(f"Oui, valider {len(chosen)} fiche(s)", type="primary", key=f"{pick}_go", disabled=not chosen):
        return
    bar = st.progress(0.0, text="Validation en cours…")

    def run():
        outcomes = bulk.validate_many(ctx.store, snapshot, ctx.user, tab.name, chosen,
                                      on_progress=lambda fraction, message: bar.progress(fraction, text=message))
        st.session_state[done] = outcomes
        return outcomes

    st.session_state.pop(done, None)
    _bulk_cancel(tab)
    st.session_state.pop(pick, None)  # the validated records leave the choices
    Feedback(pick).run(run, bulk.summary, rerun=True)


# ---- one record -------------------------------------------------------------------------------------------


def _record_view(ctx, tab, row_id: str, can_edit: bool) -> None:
    user = ctx.user
    if st.button("← Retour à la liste", key="back_to_list"):
        _close(tab)
    # Read the sheet afresh when the form is opened: it saves against this version.
    snapshot = ctx.snapshot(fresh=can_edit and _form_key(tab, row_id) not in st.session_state)
    row = snapshot.get(tab.name, row_id)
    if row is None:
        st.warning(f"La fiche {plain(row_id)} est introuvable (supprimée ou hors de votre périmètre).")
        return
    try:
        visible = access.mask_record(user, tab.name, row, snapshot)
    except errors.Refused as denied:
        st.error(plain(denied))
        return
    journal.record_consultation(ctx.store, user, tab.name, [row_id], "fiche", sorted(visible))
    st.subheader(plain(f"{_record_title(tab, visible)} — {row_id}"))
    st.caption(plain(f"Statut : {row['statut'] or '—'} · source : {row['source'] or '—'} · créée le "
                     f"{fr_datetime(row['created_at']) or '—'} · modifiée le {fr_datetime(row['updated_at']) or '—'}"))
    if not (can_edit and access.row_in_scope(user, tab.name, row, snapshot)):
        _read_only(tab, visible)
        return
    if row["statut"] == census.PENDING:
        _validation_box(ctx, snapshot, tab, row)
    elif row["statut"] == registration.TO_CONFIRM:
        st.info(plain(registration.address_line(snapshot, tab.name, row)))
    _record_form(ctx, tab, row)
    _consent_box(ctx, snapshot, tab, row)
    _archive_box(ctx, snapshot, tab, row)


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


def commune_inputs(tab, current: dict[str, str], key: str, place_check=None) -> dict[str, str]:
    """Postal code first, then a commune that really carries it (any commune of the département for a CEDEX).
    `place_check(place)` says at once, under the commune, why this place cannot be saved (a coordinator's scope)."""
    cp = st.text_input(tab.field("code_postal").header + " *", value=current.get("code_postal", ""),
                       key=f"{key}_code_postal", max_chars=10, help="5 chiffres ; choisissez ensuite la commune")
    code = cp.replace(" ", "").strip()
    out = {"code_postal": cp}
    choices = census.commune_choices(code)
    if choices.warning:
        st.warning(plain(choices.warning))
    if not choices.options:
        unchanged = code == current.get("code_postal", "")
        out["commune_insee"] = current.get("commune_insee", "") if unchanged else ""
        return out
    codes = list(choices.options)
    index = codes.index(current["commune_insee"]) if current.get("commune_insee") in codes else (
        0 if len(codes) == 1 else None)
    insee = st.selectbox("Commune *", codes, index=index, format_func=choices.options.get,
                         key=f"{key}_commune_{code}", placeholder="Choisir la commune…")
    if not insee:
        out["commune_insee"] = ""
        return out
    place, notes = census.place_values(code, insee)
    out.update(place)
    for message in notes:
        st.markdown(f":orange[ℹ {plain(message)}]")
    if place_check is not None and (problem := place_check(out)):
        field_error({"commune_insee": problem}, {}, "commune_insee")
    return out


def _wide(field) -> bool:
    return field.type == "multichoice" or (field.type == "text" and (field.max_length or 0) > 300)


def record_inputs(tab, current: dict[str, str], key: str, errors_by_field: dict, warnings: dict,
                  skip: set[str] = frozenset(), place_check=None) -> dict[str, str]:
    """One input per editable field (two per row, long ones alone), each with its French message under it."""
    values: dict[str, str] = {}
    fields = [f for f in tab.fields if f.name == "code_postal" or (f.name not in MANAGED and f.name not in skip)]
    pending: list = []

    def one(field) -> None:
        values.update(_one_input(tab, field, current, key, errors_by_field, warnings, place_check))

    def flush() -> None:
        for column, field in zip(st.columns(2), pending, strict=False):
            with column:
                one(field)
        pending.clear()

    for field in fields:
        if _wide(field) or field.name == "code_postal":
            flush()
            one(field)
        else:
            pending.append(field)
            if len(pending) == 2:
                flush()
    flush()
    return values


def _one_input(tab, field, current, key, errors_by_field, warnings, place_check) -> dict[str, str]:
    if field.name == "code_postal":
        with st.container(border=True):
            out = commune_inputs(tab, current, key, place_check)
            for name in PLACE_FIELDS:  # the commune list stands for the cells derived from it (form_errors)
                field_error(errors_by_field, warnings, name)
        return out
    value = field_widget(field, current.get(field.name, ""), key=f"{key}_{field.name}")
    field_error(errors_by_field, warnings, field.name)
    return {field.name: value}


def _coordinator_consents(key: str, snapshot) -> dict[str, str]:
    """Consents the coordinator collected (on paper, by phone…): dated now, with the notice version in force."""
    st.markdown("**Consentements recueillis par le coordinateur**")
    participation = st.checkbox("La personne a donné son consentement à participer au programme",
                                key=f"{key}_consent_participation")
    partage = st.checkbox("La personne accepte que ses coordonnées professionnelles soient transmises à la "
                          "personne rencontrée", key=f"{key}_consent_partage")
    return census.coordinator_consents(snapshot, participation, partage)


def _record_form(ctx, tab, row) -> None:
    key = _form_key(tab, row.id if row else None)
    if key not in st.session_state:
        # Made once per form: a double click or a retried submit never creates two rows, and an edit is saved
        # against the version the form was built from (a change made meanwhile is a conflict, not overwritten).
        st.session_state[key] = {"client_id": None if row else forms.new_record_id(tab.name),
                                 "fingerprint": row.fingerprint if row else "", "warnings": {}, "duplicates": []}
    state, feedback, snapshot = st.session_state[key], Feedback(key), ctx.snapshot()
    st.markdown("#### " + ("Modifier la fiche" if row else "Nouvelle fiche"))
    current = dict(row.values) if row else _defaults(tab)
    shown = {**Feedback(_validation_key(row)).errors, **feedback.errors} if row else feedback.errors
    values = record_inputs(tab, current, key, shown, state["warnings"],
                           place_check=lambda place: census.scope_problem(ctx.user, tab.name, place, snapshot))
    if row is None:
        values.update(_coordinator_consents(key, snapshot))
    confirm = False
    if state["duplicates"]:
        _show_duplicates(state["duplicates"], key)
        confirm = st.checkbox("Je confirme qu'il s'agit d'une autre " +
                              ("entreprise" if tab.name == "Entreprises" else "personne") + " : enregistrer quand même",
                              key=f"{key}_confirm")
    feedback.show(ctx.user, ctx.snapshot(), fields_shown=(*values, *PLACE_FIELDS))
    if feedback.conflict is not None and st.button("Recharger la fiche (abandonner ma saisie)", key=f"{key}_reload"):
        _reset(key)
        st.rerun()
    if st.button("Créer la fiche" if row is None else "Enregistrer les modifications", type="primary",
                 key=f"{key}_save"):
        _save(ctx, snapshot, tab, row, values, confirm, key)


def _save(ctx, snapshot, tab, row, values, confirm, key) -> None:
    state, kept = st.session_state[key], {}

    def call():
        if row is None:
            result = census.create(ctx.store, snapshot, ctx.user, tab.name, values, client_id=state["client_id"],
                                   confirm_duplicates=confirm)
        else:
            result = census.edit(ctx.store, snapshot, ctx.user, tab.name, row.id, values, state["fingerprint"],
                                 confirm_duplicates=confirm)
        kept["result"] = result
        return census.saved_or_raise(tab.name, result)

    if Feedback(key).run(call):
        result = kept["result"]
        _reset(key)
        if row is not None:
            Feedback(_validation_key(row)).clear()  # its messages were about the version just replaced
        _announce(tab, f"Fiche {result.row.id} enregistrée." + _sheet_only_warnings(tab, result))
        _open(result.row.id)
    if result := kept.get("result"):
        state.update(warnings=dict(result.warnings), duplicates=list(result.duplicates))
    st.rerun()


def _sheet_only_warnings(tab, result) -> str:
    """Warnings on columns the form does not show (status, consents…): said with the column's name."""
    hidden = [f"« {tab.field(name).header} » : {message}" for name, message in result.warnings.items()
              if name in MANAGED and name not in PLACE_FIELDS]
    return (" À corriger dans la feuille : " + " ; ".join(hidden)) if hidden else ""


# ---- actions on a saved record ----------------------------------------------------------------------------


def _after_action(tab, row, message: str) -> None:
    _reset(_form_key(tab, row.id))  # the row changed: the form must rebuild from the new version
    _announce(tab, message)
    st.rerun()


def _act(ctx, tab, row, area: str, call, message: str) -> None:
    """Run an action on the record from its box: its errors stay in the box, its success is said on top."""
    if Feedback(area).run(call):
        Feedback(area).clear()
        _after_action(tab, row, message)
    st.rerun()


def _validation_key(row) -> str:
    return f"validate_{row.id}"


def _form_fields(tab) -> tuple[str, ...]:
    """The fields the record form shows (the commune list stands for the place's derived cells)."""
    return (*(f.name for f in tab.fields if f.name not in MANAGED), *PLACE_FIELDS)


def _validation_box(ctx, snapshot, tab, row) -> None:
    key = _validation_key(row)
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
        # The messages of the form's fields are under them, in the form below; the others are listed here.
        Feedback(key).show(ctx.user, snapshot, fields_shown=_form_fields(tab))
        if st.button("Valider l'inscription", type="primary", key=f"{key}_go"):
            def call():
                result = census.validate_pending(ctx.store, snapshot, ctx.user, tab.name, row.id, row.fingerprint,
                                                 confirm_duplicates=confirm)
                st.session_state[key] = {"duplicates": list(result.duplicates)}
                return census.saved_or_raise(tab.name, result, census.NOT_VALIDATED,
                                             census.NOT_VALIDATED_DUPLICATES)

            _act(ctx, tab, row, key, call, f"Inscription {row.id} validée.")


def _consent_line(row, name: str, label: str) -> str:
    when = fr_datetime(row[name])
    return f"- {label} : " + (plain(f"donné le {when} (notice {row['consentement_version'] or '—'}, source "
                                    f"{row['consentement_source'] or '—'})") if when else "**non recueilli**")


def _consent_box(ctx, snapshot, tab, row) -> None:
    area = f"consent_{row.id}"
    with st.expander("Consentements", expanded=bool(Feedback(area).errors or Feedback(area).conflict)):
        st.markdown(_consent_line(row, "consentement_participation", "Participation au programme") + "\n" +
                    _consent_line(row, "consentement_partage", "Partage des coordonnées professionnelles"))
        for purpose, label in (("participation", "à participer"), ("partage", "au partage des coordonnées")):
            given = bool(row[consent.PURPOSE_FIELDS[purpose]].strip())
            action = "Retirer" if given else "Enregistrer"
            suffix = "" if given else " (recueilli ce jour)"
            if st.button(f"{action} le consentement {label}{suffix}", key=f"consent_{purpose}_{row.id}"):
                _act(ctx, tab, row, area, _consent_call(ctx, snapshot, tab, row, purpose, given),
                     "Consentement retiré." if given else "Consentement enregistré.")
        Feedback(area).show(ctx.user, ctx.snapshot(), fields_shown=EVERY_MESSAGE)


def _consent_call(ctx, snapshot, tab, row, purpose: str, given: bool):
    if given:
        return lambda: consent.withdraw_consent(ctx.store, snapshot, ctx.user, tab.name, row.id, purpose)
    return lambda: consent.give_consent(ctx.store, snapshot, ctx.user, tab.name, row.id, purpose, "coordinateur")


def _archive_box(ctx, snapshot, tab, row) -> None:
    if row["statut"] == census.ARCHIVED:
        st.info("Cette fiche est archivée : elle n'apparaît plus dans les suggestions.")
        return
    area = f"archive_{row.id}"
    with st.expander("Archiver cette fiche", expanded=bool(Feedback(area).errors or Feedback(area).conflict)):
        st.write("La fiche n'apparaîtra plus dans les suggestions d'appariement ; elle n'est pas supprimée et "
                 "l'historique des rencontres est conservé.")
        sure = st.checkbox("Je confirme l'archivage", key=f"archive_ok_{row.id}")
        if st.button("Archiver", disabled=not sure, key=f"archive_{row.id}"):
            _act(ctx, tab, row, area, lambda: census.done_or_raise(
                census.archive(ctx.store, snapshot, ctx.user, tab.name, row.id, row.fingerprint)),
                f"Fiche {row.id} archivée.")
        Feedback(area).show(ctx.user, ctx.snapshot(), fields_shown=EVERY_MESSAGE)


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


def render_registration(tab_name: str, title: str, intro: str) -> None:
    """A public form: no login, lands "à valider" through registration.submit (limits, honeypot, consents)."""
    store = get_store()
    tab = store.schema.tab(tab_name)
    key = f"signup_{tab_name}"
    st.title(title)
    if st.session_state.get(f"{key}_done"):
        st.success(plain(st.session_state[f"{key}_done"]))
        if st.button("Faire une autre inscription", key=f"{key}_again"):
            st.session_state.pop(f"{key}_done")
            st.rerun()
        return
    st.write(intro)
    snapshot = get_snapshot()
    _notice(snapshot)
    st.session_state.setdefault(key, {"submission_id": forms.new_record_id(tab_name)})
    feedback = Feedback(key)
    st.html(f"<style>.st-key-{key}_{HONEYPOT} {{display: none !important;}}</style>")
    values = record_inputs(tab, _defaults(tab), key, feedback.errors, {}, skip=PUBLIC_SKIP)
    honeypot = st.text_input("Site web (laissez ce champ vide)", key=f"{key}_{HONEYPOT}", max_chars=200)
    consents = _consent_inputs(key, feedback.errors)
    feedback.show(fields_shown=(*values, *PLACE_FIELDS, "consentement_participation"))
    if st.button("Envoyer mon inscription", type="primary", key=f"{key}_send"):
        _submit(tab_name, key, snapshot, values, consents, honeypot)


def _submit(tab_name: str, key: str, snapshot, values: dict, consents: dict, honeypot: str) -> None:
    """Send the registration; refused, each message under its field; accepted, the thank-you screen."""
    state, feedback, kept = st.session_state[key], Feedback(key), {}

    def call():
        settings = get_settings()
        kept["result"] = result = registration.submit(
            get_store(), snapshot, tab_name, values, consents, honeypot, _client_key(), forms.now(),
            submission_id=state["submission_id"], settings=settings.registration,
            opt_in=registration.OptIn(settings.registration, bootstrap.mailer(settings), settings.links))
        if not result.accepted:
            general = " ".join(filter(None, (result.errors.get(""), result.message)))
            raise census.NotSaved(general, {**census.form_errors(tab_name, result.errors), "": general})
        return result

    if feedback.run(call):
        result = kept["result"]
        _reset(key)
        st.session_state[f"{key}_done"] = result.message
    st.rerun()


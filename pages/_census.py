"""The Entreprises and Personnels screens: list, create, edit, archive. All rules live in the services."""

from __future__ import annotations

import uuid

import streamlit as st

from ecole_entreprise.domain.communes import communes_for_postcode
from ecole_entreprise.services import access, census
from ecole_entreprise.store.base import Conflict, StoreError
from pages._shared import (
    data_location_caption,
    field_error,
    field_widget,
    get_snapshot,
    get_store,
    refresh_button,
    show_conflict,
)

# Set by the services or by dedicated actions, never typed in the form.
MANAGED = {"id", "created_at", "updated_at", "commune", "commune_insee", "departement", "academie", "statut",
           "source", "consentement_participation", "consentement_partage", "consentement_version",
           "consentement_source", "informer_avant"}
FILTERS = ("departement", "statut")
EDIT_PERMISSION = {"Entreprises": access.EDIT_ENTREPRISES, "Personnels": access.EDIT_PERSONNELS}


def render(tab_name: str, user) -> None:
    store = get_store()
    tab = store.schema.tab(tab_name)
    st.title(tab_name)
    st.caption(data_location_caption())
    refresh_button()
    snapshot = get_snapshot()
    selected = st.query_params.get("id", "")
    can_edit = access.allowed(user, EDIT_PERMISSION[tab_name])
    if selected:
        _edit_view(store, snapshot, user, tab, selected, can_edit)
        return
    list_tab, new_tab = st.tabs(["Liste", "Nouvelle fiche"])
    with list_tab:
        _list_view(snapshot, user, tab)
    with new_tab:
        if can_edit:
            _record_form(store, snapshot, user, tab, None)
        else:
            st.info("Votre rôle ne permet pas de créer de fiche dans cet onglet.")


def _list_view(snapshot, user, tab) -> None:
    rows = access.visible_rows(user, tab.name, snapshot)
    if not rows:
        st.info("Aucune fiche pour l'instant. Créez-en une dans l'onglet « Nouvelle fiche », importez un fichier "
                "(page Import) ou saisissez des lignes directement dans la feuille.")
        return
    query = st.text_input("Rechercher", placeholder="Nom, commune, thématique…", key=f"q_{tab.name}")
    columns = st.columns(len(FILTERS) + 1)
    filters = {}
    for column, name in zip(columns, FILTERS, strict=False):
        options = sorted({r.get(name, "") for r in rows if r.get(name)})
        filters[name] = column.multiselect(tab.field(name).header, options, key=f"f_{tab.name}_{name}",
                                           placeholder="Tous")
    page_size = 25
    total_pages_hint = max(1, (len(rows) + page_size - 1) // page_size)
    page = columns[-1].number_input("Page", min_value=1, max_value=total_pages_hint, value=1,
                                    key=f"p_{tab.name}")
    frame, total = census.list_frame(rows, tab, query=query, filters=filters, page=page, page_size=page_size)
    st.caption(f"{total} fiche(s) — page {page} sur {max(1, (total + page_size - 1) // page_size)}")
    if total == 0:
        st.info("Aucune fiche ne correspond à la recherche.")
        return
    frame.insert(0, "Ouvrir", [f"?id={i}" for i in frame["ID"]])
    st.dataframe(frame, hide_index=True, width="stretch",
                 column_config={"Ouvrir": st.column_config.LinkColumn("Ouvrir", display_text="✏️ ouvrir")})


def _edit_view(store, snapshot, user, tab, row_id, can_edit) -> None:
    if st.button("← Retour à la liste"):
        st.query_params.clear()
        st.rerun()
    row = snapshot.get(tab.name, row_id)
    if row is None:
        st.warning(f"La fiche {row_id} est introuvable (archivée, supprimée ou hors de votre périmètre).")
        return
    try:
        visible = access.mask_record(user, tab.name, row, snapshot)
    except access.AccessDenied as denied:
        st.error(str(denied))
        return
    st.subheader(f"Fiche {row_id}")
    if not can_edit:
        st.dataframe([{tab.field(k).header: v for k, v in visible.items() if k in tab.field_names}],
                     hide_index=True)
        return
    _record_form(store, snapshot, user, tab, row)
    _archive_box(store, snapshot, user, tab, row)


def _commune_inputs(tab, current: dict[str, str], key: str) -> dict[str, str]:
    """Postal code first, then the communes that really carry it."""
    cp = st.text_input(tab.field("code_postal").header + " *", value=current.get("code_postal", ""),
                       key=f"{key}_cp", max_chars=10)
    out = {"code_postal": cp}
    choices = communes_for_postcode(cp.strip()) if cp.strip() else []
    if choices:
        labels = {c.insee: f"{c.nom} ({c.insee})" for c in choices}
        codes = list(labels)
        index = codes.index(current.get("commune_insee")) if current.get("commune_insee") in codes else 0
        out["commune_insee"] = st.selectbox("Commune *", codes, index=index, format_func=labels.get,
                                            key=f"{key}_commune")
    else:
        if cp.strip():
            st.caption("Aucune commune de Bourgogne-Franche-Comté ne porte ce code postal.")
        out["commune_insee"] = current.get("commune_insee", "")
    return out


def _record_form(store, snapshot, user, tab, row) -> None:
    key = f"form_{tab.name}_{row.id if row else 'new'}"
    state = st.session_state.setdefault(key, {"client_id": None, "errors": {}, "warnings": {}, "duplicates": []})
    if row is None and not state["client_id"]:
        # Made once per form: a double click or a retried submit can never create two rows.
        state["client_id"] = f"{tab.id_prefix}-{uuid.uuid4().hex[:8].upper()}"
    current = dict(row.values) if row else {}
    values: dict[str, str] = {}
    errors, warnings = state["errors"], state["warnings"]
    for field in tab.fields:
        if field.name == "code_postal":
            values.update(_commune_inputs(tab, current, key))
            field_error(errors, warnings, "code_postal")
            field_error(errors, warnings, "commune_insee")
            continue
        if field.name in MANAGED:
            continue
        values[field.name] = field_widget(field, current.get(field.name, field.default if row is None else ""),
                                          key=f"{key}_{field.name}")
        field_error(errors, warnings, field.name)
    if row is None:
        consents = st.columns(2)
        given = {
            "consentement_participation": consents[0].checkbox("Consentement à participer recueilli", key=f"{key}_c1"),
            "consentement_partage": consents[1].checkbox("Consentement au partage des coordonnées recueilli",
                                                         key=f"{key}_c2"),
        }
        values.update(census.consent_values(snapshot, given, source="coordinateur"))
    confirm = False
    if state["duplicates"]:
        st.warning("Fiche(s) similaire(s) déjà présente(s) :")
        for dup in state["duplicates"]:
            st.markdown(f"- [{dup.row_id}](?id={dup.row_id}) — {dup.reason}")
        confirm = st.checkbox("Je confirme qu'il s'agit d'une autre personne ou entreprise", key=f"{key}_dup")
    if st.button("Enregistrer", type="primary", key=f"{key}_save"):
        _save(store, snapshot, user, tab, row, values, state, confirm)


def _save(store, snapshot, user, tab, row, values, state, confirm) -> None:
    try:
        if row is None:
            result = census.create(store, snapshot, user, tab.name, values, client_id=state["client_id"],
                                   confirm_duplicates=confirm)
        else:
            result = census.edit(store, snapshot, user, tab.name, row.id, values, row.fingerprint)
    except Conflict as conflict:
        show_conflict(conflict, tab)
        return
    except (access.AccessDenied, StoreError) as error:
        st.error(str(error))
        return
    state["errors"], state["warnings"] = dict(result.errors), dict(result.warnings)
    state["duplicates"] = list(getattr(result, "duplicates", []) or [])
    if result.errors:
        st.error("La fiche n'a pas été enregistrée : corrigez les champs signalés.")
        st.rerun()
    elif result.row is None:
        st.rerun()  # duplicates to confirm
    else:
        st.session_state.pop(f"form_{tab.name}_{row.id if row else 'new'}", None)
        st.toast(f"Fiche {result.row.id} enregistrée.", icon="✅")
        st.query_params["id"] = result.row.id
        st.rerun()


def _archive_box(store, snapshot, user, tab, row) -> None:
    if row["statut"] == "archivé":
        st.info("Cette fiche est archivée.")
        return
    with st.expander("Archiver cette fiche"):
        st.write("La fiche n'apparaîtra plus dans les listes ni dans les suggestions ; l'historique est conservé.")
        sure = st.checkbox("Je confirme l'archivage", key=f"archive_ok_{row.id}")
        if st.button("Archiver", disabled=not sure, key=f"archive_{row.id}"):
            try:
                census.archive(store, snapshot, user, tab.name, row.id, row.fingerprint)
            except Conflict as conflict:
                show_conflict(conflict, tab)
                return
            except (access.AccessDenied, StoreError) as error:
                st.error(str(error))
                return
            st.toast("Fiche archivée.", icon="🗄️")
            st.rerun()

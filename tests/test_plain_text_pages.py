"""Text from the sheet or from the public forms never becomes a link, an image, formatting or a directive on a page.

Every text field of every tab of the demo workbook gets Markdown/HTML payloads (a tracking pixel, a link, raw HTML,
bold, a Streamlit colour directive, LaTeX); then every page each role may open (and the record and meeting views) is
drawn with AppTest, and every string that Streamlit renders as Markdown (bodies, headings, captions, alerts, toasts,
widget labels and tooltips, radio options, expander and tab labels, st.table cells) is checked: the payloads appear
only escaped. Elements that never render Markdown (st.text, st.code, dataframes, selectbox options) are not checked.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

from ecole_entreprise.domain.roles import User
from ecole_entreprise.services.kernel import navigation
from ecole_entreprise.services.kernel.users import find_user
from pages._plain import JOINER, plain
from tests.support.apptest import ADMIN, BESANCON, COMITE, CPME, DIJON, ROOT, app_store, open_page, use_workbook

PAYLOAD = ("![x](http://127.0.0.1:9/p.png) [Cliquez](http://127.0.0.1:9/l) <img src=x> **gras** :red[rouge] $x$ "
           "_it_ `code` :material/home: a@b.fr www.exemple.fr &lt;b&gt;")
# Each marker is what would render (an image, a link, HTML, bold…) if the text were read as Markdown.
MARKERS = [re.compile(p) for p in (
    r"!\[x\]", r"\[Cliquez\]\(", r"(?<!\\)<img", r"(?<!\\)\*\*gras", r"(?<!\\):red\[", r"(?<!\\)\$x",
    r"(?<![\\\w])_it_", r"(?<!\\)`code", r"(?<!\\):material/", r"a(?<!\\)@b", r"www(?<!\\)\.exemple", r"(?<!\\)&lt;",
    r"(?<!\\)http://",
)]
SKIPPED_TEXT_FIELDS = {"annee_scolaire", "score", "perimetre", "cle", "hash", "hash_precedent", "cible_tab",
                       "cible_id", "acteur", "action", "personne_id", "liste", "valeur", "gravite", "onglet",
                       "ligne_id", "colonne", "lien"}  # keys, scores and links the app computes with
NOTICE_KEYS = ("responsable_traitement", "dpo_contact", "version_notice")
MARKDOWN_KEYS = {"body", "label", "help", "caption", "tooltip"}  # proto fields Streamlit renders as Markdown
MARKDOWN_OPTIONS = {"radio", "button_group"}  # their options render Markdown (a selectbox's do not)
NEVER_MARKDOWN = {"text", "code", "arrow_data_frame", "dataframe", "json", "html", "exception"}
ROLES = [ADMIN, DIJON, BESANCON, CPME, COMITE]


def hostile(value: str) -> str:
    return f"{value} {PAYLOAD}".strip()


def write_payloads(path) -> None:
    """The payloads in every free-text cell of the workbook at `path` (written as the sheet would hold them)."""
    from ecole_entreprise.domain.schema import default_schema
    from ecole_entreprise.store.workbook import WorkbookStore

    store = WorkbookStore(default_schema(), path)
    snapshot = store.read()
    for tab in store.schema.tabs.values():
        if tab.name == "Journal":  # append-only: a hostile entry is appended below
            continue
        names = [f.name for f in tab.fields if f.type == "text" and f.name not in SKIPPED_TEXT_FIELDS]
        for row in snapshot.rows(tab.name):
            changes = {n: hostile(row[n]) for n in names}
            if tab.name == "Parametres" and row["cle"] in NOTICE_KEYS:
                changes["valeur"] = hostile(row["valeur"])
            if changes:
                store.update(tab.name, row.id, changes, row.fingerprint)
    store.append("Journal", [{"acteur": ADMIN, "action": "consultation", "details": PAYLOAD, "finalite": PAYLOAD}])


@pytest.fixture(scope="module")
def hostile_template(demo_template, tmp_path_factory):
    import shutil

    path = tmp_path_factory.mktemp("hostile") / "classeur.xlsx"
    shutil.copy(demo_template, path)
    write_payloads(path)
    return path


def markdown_strings(at) -> list[str]:
    """Every string of the drawn page that Streamlit renders as Markdown."""
    found: list[str] = []
    for node in at._tree:
        kind = getattr(node, "type", "")
        if kind in NEVER_MARKDOWN or getattr(node, "proto", None) is None:
            continue
        value = getattr(node, "value", None) if kind in ("table", "arrow_table") else None
        if isinstance(value, pd.DataFrame):  # st.table renders its headers and cells as Markdown
            found += [str(c) for c in value.columns] + [str(v) for v in value.to_numpy().ravel()]
            continue
        found += list(_strings(MessageToDict(node.proto), kind))
    return found


def _strings(message, kind: str, key: str = ""):
    if isinstance(message, dict):
        for name, value in message.items():
            yield from _strings(value, kind, name)
    elif isinstance(message, list):
        for value in message:
            yield from _strings(value, kind, key)
    elif isinstance(message, str) and (key in MARKDOWN_KEYS or (key == "options" and kind in MARKDOWN_OPTIONS)):
        yield message


def rendered_payloads(at) -> list[str]:
    return [text for text in markdown_strings(at) if any(m.search(text) for m in MARKERS)]


def escaped_payloads(at) -> int:
    return sum(plain(PAYLOAD) in text for text in markdown_strings(at))


def open_public(page: str) -> AppTest:
    """Nobody signed in: the login page, with the public pages in the menu."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.switch_page(page)
    at.run()
    return at


def pages_of(email: str) -> list[str]:
    user = find_user(app_store().read(), email)
    return [spec.path for pages in navigation.sections_for(user).values() for _, spec in pages]


def detail_views(email: str) -> list[tuple[str, dict]]:
    """A company, a staff member and meetings at each stage, as the role may open them."""
    snapshot = app_store().read()
    user: User = find_user(snapshot, email)
    from ecole_entreprise.services.kernel import access

    views = []
    for tab, page in (("Entreprises", "pages/entreprises.py"), ("Personnels", "pages/personnels.py")):
        rows = access.visible_rows(user, tab, snapshot) if navigation.may_open(user, tab.lower()) else []
        pending = [r for r in rows if r["statut"] == "à valider"]
        views += [(page, {"id": r["id"]}) for r in (rows[:1] + pending[:1])]
    if navigation.may_open(user, "rencontres"):
        meetings = access.visible_rows(user, "Rencontres", snapshot)
        by_status = {r["statut"]: r for r in meetings}
        views += [("pages/rencontres.py", {"id": r["id"]}) for r in by_status.values()]
    return views


@pytest.mark.parametrize("email", ROLES)
def test_no_page_renders_markup_from_data(email, hostile_template, monkeypatch, tmp_path):
    use_workbook(monkeypatch, hostile_template, tmp_path)
    seen, escaped = [], 0
    for page, query in [(p, {}) for p in pages_of(email)] + detail_views(email):
        at = open_page(monkeypatch, email, page, query=query)
        assert not at.exception, (page, query, [e.value for e in at.exception])
        seen += [(page, query, text) for text in rendered_payloads(at)]
        escaped += escaped_payloads(at)
    assert seen == []
    assert escaped > 0  # the payloads did reach Markdown elements, escaped


def test_public_pages_render_no_markup_from_data(hostile_template, monkeypatch, tmp_path):
    use_workbook(monkeypatch, hostile_template, tmp_path)
    for page in ("pages/inscription_entreprise.py", "pages/inscription_personnel.py", "pages/confidentialite.py"):
        at = open_public(page)
        assert not at.exception
        assert rendered_payloads(at) == [], page
        assert escaped_payloads(at) > 0, page  # the Parametres values (controller, DPO, notice version)


def test_the_privacy_person_view_and_the_score_details_render_no_markup(hostile_template, monkeypatch, tmp_path):
    use_workbook(monkeypatch, hostile_template, tmp_path)
    at = open_page(monkeypatch, ADMIN, "pages/rgpd.py")
    at.text_input(key="person_q").input("gras").run()
    first = app_store().read().rows("Entreprises")[0]
    at.selectbox(key="person_pick").set_value(f"Entreprises|{first.id}").run()
    assert not at.exception
    assert rendered_payloads(at) == [] and escaped_payloads(at) > 0
    at = open_page(monkeypatch, DIJON, "pages/appariement.py")
    at.toggle(key="all_Entreprises").set_value(True).run()  # validated companies that cannot be paired too
    shown = 0
    for company in [r for r in app_store().read().rows("Entreprises") if r["statut"] == "validé"][:10]:
        at.selectbox(key="pick_Entreprises").set_value(company.id).run()
        assert rendered_payloads(at) == []
        shown += escaped_payloads(at)  # the suggestions' labels (expanders) and score details
    assert shown > 0


@pytest.mark.parametrize("text", [PAYLOAD, "# Titre", "- liste", "1. un", "> citation", "a_b_c", "x\\*y",
                                  "Valeur : « 12 »", "http://x.fr", "mailto:a@b.fr", "&amp;", "~~barré~~"])
def test_plain_escapes_what_opens_a_construct_and_nothing_else(text):
    escaped = plain(text)
    assert not any(m.search(escaped) for m in MARKERS)
    # CommonMark reads a backslash before punctuation as that punctuation: removing them gives the text back.
    # (The word joiner that breaks a bare autolink is invisible.)
    assert re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", escaped).replace(JOINER, "") == text
    if text in ("a_b_c", "Valeur : « 12 »"):
        assert escaped == text  # French punctuation and identifiers read unchanged


def test_an_imported_file_renders_no_markup_from_its_name_headers_or_cells(hostile_template, monkeypatch, tmp_path):
    import csv
    import io

    use_workbook(monkeypatch, hostile_template, tmp_path)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([f"Raison sociale {PAYLOAD}", "Code postal", f"Notes {PAYLOAD}"])
    writer.writerow([f"Menuiserie {PAYLOAD}", "21000", PAYLOAD])
    at = open_page(monkeypatch, ADMIN, "pages/import.py")
    at.file_uploader[0].set_value((f"liste {PAYLOAD}.csv", out.getvalue().encode(), "text/csv")).run()
    assert not at.exception
    assert rendered_payloads(at) == []
    assert escaped_payloads(at) >= 3  # the file name, the column headers (labels) and an example (tooltip)

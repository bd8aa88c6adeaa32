"""The one page registry: every screen with its file, French title, icon, menu section, the permission that
opens it and the tabs it reads. The app shell builds the menu from it, pages check their access with it, the home
page links with it, and a page's snapshot holds only its tabs (pages/_shell.py)."""

from __future__ import annotations

from typing import NamedTuple

from ...domain import permissions as p
from ...domain.roles import User
from ...domain.schema import default_schema

# Tabs that grow with the programme's history and that only the pages showing them read: every other page's
# snapshot (and so every cold view's download, and every re-read's digests) leaves them out.
HISTORY_TABS = ("Journal", "À corriger")
# Every tab of the schema but those: what most pages read, and what the shell reads to identify the user (so a
# cold view of such a page is one request; a page that needs a history tab then reads that tab alone).
CORE = "core"

class Page(NamedTuple):
    path: str  # the st.Page target (pages/…)
    title: str
    icon: str
    section: str
    permission: str | None  # what a signed-in user needs; None: no sign-in page only
    public: bool = False  # also offered without signing in (section « Inscription »)
    hidden: bool = False  # opened from a personal link only: never in the menu, signed in or not
    # The tabs its snapshot holds: CORE, or the names of the tabs it reads, or None for every tab of the schema.
    tabs: str | tuple[str, ...] | None = CORE


# Signed-in pages, in menu order (sections keep the order in which they first appear).
PAGES: dict[str, Page] = {
    "accueil": Page("pages/home.py", "Accueil", ":material/home:", "Pilotage", p.VIEW_HOME),
    "entreprises": Page("pages/entreprises.py", "Entreprises", ":material/factory:",
                        "Recensement", p.VIEW_PERSON_LISTS),
    "personnels": Page("pages/personnels.py", "Personnels", ":material/school:", "Recensement", p.VIEW_PERSON_LISTS),
    "import": Page("pages/import.py", "Import", ":material/upload_file:", "Recensement", p.IMPORT_DATA),
    "appariement": Page("pages/appariement.py", "Appariement", ":material/link:", "Rencontres", p.PAIR),
    "rencontres": Page("pages/rencontres.py", "Rencontres", ":material/handshake:", "Rencontres", p.MANAGE_MEETINGS),
    "calendrier": Page("pages/calendrier.py", "Calendrier", ":material/calendar_month:",
                       "Rencontres", p.MANAGE_MEETINGS),
    "partenariats": Page("pages/partenariats.py", "Partenariats", ":material/domain:",
                         "Rencontres", p.EDIT_PARTENARIATS),
    "bilan": Page("pages/bilan.py", "Bilan", ":material/bar_chart:", "Pilotage", p.VIEW_BILAN),
    # The quality report covers every tab (the Journal's types too); a person's rights cover their journal entries.
    "qualite": Page("pages/qualite.py", "Qualité des données", ":material/fact_check:",
                    "Recensement", p.VIEW_QUALITY, tabs=None),
    "rgpd": Page("pages/rgpd.py", "Demandes RGPD", ":material/shield:", "RGPD", p.MANAGE_RGPD, tabs=None),
    "journal": Page("pages/journal.py", "Journal", ":material/receipt_long:",
                    "RGPD", p.VIEW_JOURNAL, tabs=("Journal",)),
    "utilisateurs": Page("pages/utilisateurs.py", "Utilisateurs", ":material/group:", "RGPD", p.MANAGE_USERS),
    "confidentialite": Page("pages/confidentialite.py", "Confidentialité", ":material/lock:", "RGPD", p.VIEW_PRIVACY,
                            public=True, tabs=("Parametres",)),
    "registre": Page("pages/registre.py", "Registre des traitements", ":material/menu_book:", "RGPD", p.VIEW_REGISTER,
                     tabs=("Parametres",)),
}
PUBLIC_SECTION = "Inscription"
REGISTRATION_PAGES: dict[str, Page] = {
    "inscription_entreprise": Page("pages/inscription_entreprise.py", "Inscription entreprise", ":material/factory:",
                                   PUBLIC_SECTION, None, public=True),
    "inscription_personnel": Page("pages/inscription_personnel.py", "Inscription personnel", ":material/school:",
                                  PUBLIC_SECTION, None, public=True),
}
# Personal links sent to the participants (services/links): no account, whoever is signed in.
LINK_PAGES: dict[str, Page] = {
    "lien": Page("pages/lien.py", "Lien personnel", ":material/mail:", PUBLIC_SECTION, None, public=True, hidden=True),
}
# Without signing in: the registration forms and every public page, in the « Inscription » section.
PUBLIC_PAGES: dict[str, Page] = {**REGISTRATION_PAGES, **{
    key: page._replace(section=PUBLIC_SECTION) for key, page in PAGES.items() if page.public}, **LINK_PAGES}
HOME = "accueil"


def core_tabs() -> tuple[str, ...]:
    """Every tab of the schema but the history tabs, in schema order."""
    return tuple(name for name in default_schema().tab_names if name not in HISTORY_TABS)


def page_tabs(key: str) -> tuple[str, ...] | None:
    """The tabs page `key` reads (None: every tab); an unknown key (the login page) reads the core tabs."""
    page = PAGES.get(key) or PUBLIC_PAGES.get(key)
    tabs = page.tabs if page is not None else CORE
    return core_tabs() if tabs == CORE else tabs


def may_open(user: User | None, key: str) -> bool:
    """Signed in: the page's permission is one of the user's role; signed out: the page is public."""
    if user is None:
        return key in PUBLIC_PAGES
    page = PAGES.get(key)
    return page is not None and page.permission in user.rights.permissions


def pages_for(user: User | None) -> list[str]:
    """Keys of the signed-in pages this user may open, in menu order (none when signed out)."""
    return [key for key in PAGES if user is not None and may_open(user, key)]


def sections_for(user: User | None) -> dict[str, list[tuple[str, Page]]]:
    """The menu: section → (key, page), for a signed-in user or, signed out, the public pages."""
    keys = pages_for(user) if user is not None else [k for k, page in PUBLIC_PAGES.items() if not page.hidden]
    registry = PAGES if user is not None else PUBLIC_PAGES
    sections: dict[str, list[tuple[str, Page]]] = {}
    for key in keys:
        sections.setdefault(registry[key].section, []).append((key, registry[key]))
    return sections

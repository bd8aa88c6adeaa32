"""The one page registry: every screen with its file, French title, icon, menu section and the permission that
opens it. The app shell builds the menu from it, pages check their access with it, the home page links with it."""

from __future__ import annotations

from typing import NamedTuple

from ...domain import permissions as p
from ...domain.roles import User


class Page(NamedTuple):
    path: str  # the st.Page target (pages/…)
    title: str
    icon: str
    section: str
    permission: str | None  # what a signed-in user needs; None: no sign-in page only
    public: bool = False  # also offered without signing in (section « Inscription »)
    hidden: bool = False  # opened from a personal link only: never in the menu, signed in or not


# Signed-in pages, in menu order (sections keep the order in which they first appear).
PAGES: dict[str, Page] = {
    "accueil": Page("pages/home.py", "Accueil", "🏠", "Pilotage", p.VIEW_HOME),
    "entreprises": Page("pages/entreprises.py", "Entreprises", "🏭", "Recensement", p.VIEW_PERSON_LISTS),
    "personnels": Page("pages/personnels.py", "Personnels", "🎓", "Recensement", p.VIEW_PERSON_LISTS),
    "import": Page("pages/import.py", "Import", "📥", "Recensement", p.IMPORT_DATA),
    "appariement": Page("pages/appariement.py", "Appariement", "🔗", "Rencontres", p.PAIR),
    "rencontres": Page("pages/rencontres.py", "Rencontres", "🤝", "Rencontres", p.MANAGE_MEETINGS),
    "calendrier": Page("pages/calendrier.py", "Calendrier", "📅", "Rencontres", p.MANAGE_MEETINGS),
    "partenariats": Page("pages/partenariats.py", "Partenariats", "🏫", "Rencontres", p.EDIT_PARTENARIATS),
    "bilan": Page("pages/bilan.py", "Bilan", "📊", "Pilotage", p.VIEW_BILAN),
    "qualite": Page("pages/qualite.py", "Qualité des données", "🩺", "Recensement", p.VIEW_QUALITY),
    "rgpd": Page("pages/rgpd.py", "Demandes RGPD", "🛡️", "RGPD", p.MANAGE_RGPD),
    "journal": Page("pages/journal.py", "Journal", "📜", "RGPD", p.VIEW_JOURNAL),
    "utilisateurs": Page("pages/utilisateurs.py", "Utilisateurs", "👥", "RGPD", p.MANAGE_USERS),
    "confidentialite": Page("pages/confidentialite.py", "Confidentialité", "🔒", "RGPD", p.VIEW_PRIVACY,
                            public=True),
    "registre": Page("pages/registre.py", "Registre des traitements", "📒", "RGPD", p.VIEW_REGISTER),
}
PUBLIC_SECTION = "Inscription"
REGISTRATION_PAGES: dict[str, Page] = {
    "inscription_entreprise": Page("pages/inscription_entreprise.py", "Inscription entreprise", "🏭",
                                   PUBLIC_SECTION, None, public=True),
    "inscription_personnel": Page("pages/inscription_personnel.py", "Inscription personnel", "🎓",
                                  PUBLIC_SECTION, None, public=True),
}
# Personal links sent to the participants (services/links): no account, whoever is signed in.
LINK_PAGES: dict[str, Page] = {
    "lien": Page("pages/lien.py", "Lien personnel", "✉️", PUBLIC_SECTION, None, public=True, hidden=True),
}
# Without signing in: the registration forms and every public page, in the « Inscription » section.
PUBLIC_PAGES: dict[str, Page] = {**REGISTRATION_PAGES, **{
    key: page._replace(section=PUBLIC_SECTION) for key, page in PAGES.items() if page.public}, **LINK_PAGES}
HOME = "accueil"


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

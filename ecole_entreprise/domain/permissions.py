"""What a role may do: each permission is its French wording, so a refusal reads « ne permet pas de <permission> »."""

from __future__ import annotations

VIEW_HOME = "voir l'accueil"
VIEW_PERSON_LISTS = "voir les listes de personnes"
EDIT_ENTREPRISES = "modifier les entreprises"
EDIT_PERSONNELS = "modifier les personnels"
IMPORT_DATA = "importer des fichiers"
PAIR = "proposer des appariements"
MANAGE_MEETINGS = "gérer les rencontres"
EDIT_PARTENARIATS = "gérer les partenariats"
EDIT_EVENEMENTS = "gérer les événements"
VIEW_BILAN = "voir le bilan"
VIEW_FREE_TEXT_BILAN = "lire les textes libres du bilan"
VIEW_QUALITY = "voir la qualité des données"
REVEAL_CONTACTS = "consulter les coordonnées de la partie rencontrée"
EXPORT_PERSONAL_DATA = "exporter des données personnelles"
MANAGE_USERS = "gérer les utilisateurs"
MANAGE_RGPD = "traiter les demandes RGPD"
RUN_PURGE = "lancer les purges de conservation"
VIEW_JOURNAL = "consulter le journal"
VIEW_PRIVACY = "lire la notice de confidentialité"
VIEW_REGISTER = "consulter le registre des traitements"
RECOVER_WRITES = "réappliquer les écritures effacées du classeur"

ALL_PERMISSIONS = frozenset({
    VIEW_HOME, VIEW_PERSON_LISTS, EDIT_ENTREPRISES, EDIT_PERSONNELS, IMPORT_DATA, PAIR, MANAGE_MEETINGS,
    EDIT_PARTENARIATS, EDIT_EVENEMENTS, VIEW_BILAN, VIEW_FREE_TEXT_BILAN, VIEW_QUALITY, REVEAL_CONTACTS,
    EXPORT_PERSONAL_DATA, MANAGE_USERS, MANAGE_RGPD, RUN_PURGE, VIEW_JOURNAL, VIEW_PRIVACY, VIEW_REGISTER,
    RECOVER_WRITES,
})
# What both coordinators do, each on their own side (the side and the scope are in their role record).
COORDINATION = frozenset({
    VIEW_HOME, VIEW_PERSON_LISTS, IMPORT_DATA, PAIR, MANAGE_MEETINGS, EDIT_PARTENARIATS, EDIT_EVENEMENTS,
    VIEW_BILAN, VIEW_QUALITY, REVEAL_CONTACTS, EXPORT_PERSONAL_DATA, VIEW_PRIVACY,
})

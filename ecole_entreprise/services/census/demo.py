"""A realistic, clearly fictional dataset to try the app: companies, staff, meetings over two school years.

Every name contains "Démo", company e-mails use example domains, staff e-mails an obviously fictional local part
("demo.…@ac-dijon.fr"), phone numbers the range reserved for fiction (01 99 00 xx xx) and establishment codes
the 99xx block. The same seed and the same day always give the same records and IDs.

Dates are relative to `today`: the demo covers the current school year (meetings held in the past weeks, others
planned in the coming weeks, recent proposals and self-registrations) and the previous, closed one. Loading it also
sets the Parametres of the current year (annee_scolaire, semaine école-entreprise) when they were never changed.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from ecole_entreprise import errors

from ...domain import communes
from ...domain.roles import ACADEMIES, academie_of
from ...domain.schema import CREATED_FIELD, ID_FIELD, default_schema
from ...domain.statuses import MeetingStatus
from ...domain.validation import DuplicateIndex
from ...domain.validators import normalize_phone, uai_letter
from ...domain.values import format_date, format_datetime, format_multi, now_paris, school_year_of
from ...store.base import StoreError
from .imports import plus_one_month

PREVIOUS, CURRENT = "previous", "current"
LOAD_ORDER = ("Utilisateurs", "Entreprises", "Personnels", "Rencontres", "Partenariats", "Evenements",
              "Demandes RGPD")
PEOPLE_TABS = ("Entreprises", "Personnels", "Rencontres")
_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # same alphabet as store.base.new_id

COMPANIES_PER_DEP = {"21": 11, "25": 10, "39": 6, "58": 5, "70": 6, "71": 10, "89": 7, "90": 5}
STAFF_PER_DEP = {"21": 20, "25": 20, "39": 12, "58": 10, "70": 12, "71": 20, "89": 14, "90": 12}
TOWNS = {
    "21": ("21231", "21054", "21166", "21425", "21515", "21355"), "25": ("25056", "25388", "25462", "25031", "25578"),
    "39": ("39300", "39198", "39478", "39097"), "58": ("58194", "58086", "58095", "58079"),
    "70": ("70550", "70310", "70279", "70285", "70311"), "71": ("71076", "71270", "71014", "71306"),
    "89": ("89024", "89387", "89206", "89025", "89418"), "90": ("90010", "90033", "90009"),
}
# Meetings per status and school year: the previous year is closed, the current one has every status.
MEETING_PLAN = {
    PREVIOUS: {"bilan saisi": 16, "réalisée": 3, "refusée": 3, "annulée": 3},
    CURRENT: {"proposée": 6, "acceptée": 5, "planifiée": 6, "réalisée": 5, "bilan saisi": 12, "refusée": 3,
                  "annulée": 3},
}

FIRST_F = ("Camille", "Léa", "Chloé", "Manon", "Inès", "Sarah", "Julie", "Emma", "Lucie", "Claire", "Sophie",
           "Nathalie", "Isabelle", "Céline", "Aurélie", "Élodie", "Hélène", "Mathilde", "Pauline", "Anne", "Marion",
           "Laura", "Juliette", "Margaux", "Agathe")
FIRST_M = ("Thomas", "Nicolas", "Julien", "Antoine", "Maxime", "Hugo", "Lucas", "Pierre", "Mathieu", "Sébastien",
           "Olivier", "Laurent", "Stéphane", "Guillaume", "Romain", "Vincent", "Alexandre", "François", "Benoît",
           "Damien", "Jérôme", "Karim", "Yanis", "Théo", "Baptiste")
LAST = ("Martin", "Bernard", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Simon", "Michel",
        "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard", "Bonnet", "Dupont",
        "Lambert", "Fontaine", "Rousseau", "Muller", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer",
        "Garnier", "Chevalier", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément", "Morin", "Henry",
        "Roussel", "Masson", "Marchand", "Duval", "Denis", "Dumont", "Lemaire", "Noël", "Meyer", "Dufour",
        "Meunier", "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Brunet", "Gaillard", "Barbier", "Arnaud",
        "Gérard", "Roche", "Renard", "Schmitt", "Colin", "Vidal", "Caron", "Picard", "Fabre", "Aubert", "Lemoine",
        "Renaud", "Dumas", "Lacroix", "Bourgeois", "Rey", "Leclerc", "Rolland", "Lecomte", "Carpentier", "Vasseur",
        "Maillard", "Hubert", "Charpentier", "Prévost", "Huet", "Boucher", "Tessier", "Jacquet", "Collet")
KINDS = (("Atelier", "25.62B"), ("Menuiserie", "16.23Z"), ("Boulangerie", "10.71C"), ("Garage", "45.20A"),
         ("Imprimerie", "18.12Z"), ("Bureau d'études", "71.12B"), ("Informatique", "62.01Z"),
         ("Transports", "49.41A"), ("Électricité", "43.21A"), ("Plomberie", "43.22A"), ("Fromagerie", "10.51C"),
         ("Domaine viticole", "01.21Z"), ("Hôtel-restaurant", "55.10Z"), ("Plasturgie", "22.29A"),
         ("Horlogerie", "26.52Z"), ("Cabinet comptable", "69.20Z"), ("Paysages", "81.30Z"),
         ("Maçonnerie", "43.99C"), ("Logistique", "52.10B"), ("Agence web", "73.11Z"), ("Laboratoire", "71.20B"),
         ("Scierie", "16.10A"), ("Chaudronnerie", "25.29Z"), ("Biscuiterie", "10.72Z"))
CONTACT_ROLES = ("Gérant", "Gérante", "Directeur général", "Directrice générale", "Responsable RH",
                 "Président", "Cheffe d'atelier", "Responsable de production")
SCHOOLS = ("Lycée Démo Gustave Eiffel", "Collège Démo des Tilleuls", "Lycée professionnel Démo Les Forges",
           "Collège Démo Jean Moulin", "Lycée Démo Marie Curie")
DISCIPLINES = ("Mathématiques", "Économie-gestion", "Génie mécanique", "Lettres-histoire", "Génie électrique",
               "SES", "Anglais", "Physique-chimie", "Biotechnologies", "Hôtellerie-restauration")
STAFF_FUNCTIONS = (("professeur", 60), ("chef d'établissement", 10), ("adjoint", 8), ("PSY-EN", 6), ("CPE", 6),
                   ("DDFPT", 6), ("inspecteur", 2), ("autre", 2))
EXPECTATIONS_COMPANY = ("Faire connaître nos métiers et nos besoins en compétences.",
                        "Mieux comprendre l'orientation des élèves vers nos filières.",
                        "Accueillir des stagiaires de la voie professionnelle.",
                        "Échanger sur la gestion d'équipe et le management.")
EXPECTATIONS_STAFF = ("Découvrir le fonctionnement d'une PME du territoire.",
                      "Nourrir mes cours d'exemples concrets de gestion de projet.",
                      "Trouver des lieux de stage pour mes élèves.",
                      "Comprendre les besoins en compétences des entreprises locales.")
CONCLUSIONS = ("Échange très riche, nous avons convenu d'une visite avec une classe.",
               "Rencontre utile : meilleure vision des contraintes de chacun.",
               "Bon moment, des pistes de stages pour le printemps.",
               "Intéressant mais peu de suites possibles à court terme.")
REFUSALS = ("Indisponible sur la période proposée.", "Activité trop éloignée de mes attentes.",
            "Surcharge d'activité cette année.")
CANCELLATIONS = ("Empêchement de dernière minute, non reprogrammé.", "Mutation du personnel en cours d'année.",
                 "Fermeture temporaire de l'entreprise.")
USERS = (("admin@exemple.fr", "Administratrice Démo", "admin", ""),
         ("coord.dijon@exemple.fr", "Coordinatrice Démo Dijon", "coordinateur académie", "Dijon"),
         ("coord.besancon@exemple.fr", "Coordinateur Démo Besançon", "coordinateur académie", "Besançon"),
         ("coord.cpme21@exemple.fr", "Coordinateur Démo CPME", "coordinateur CPME", "21, 58, 71, 89"),
         ("comite@exemple.fr", "Comité de pilotage Démo", "comité de pilotage", ""))


class DemoRefused(StoreError, errors.Refused):
    def __init__(self, counts: dict[str, int]):
        filled = ", ".join(f"{n} ligne(s) dans « {tab} »" for tab, n in counts.items() if n)
        super().__init__(f"Les données de démonstration ne sont pas chargées : la base contient déjà des données "
                         f"({filled}). Utilisez --force pour les ajouter quand même.")


# ---- small helpers ----------------------------------------------------------------------------------------


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if c.isalnum() and not unicodedata.combining(c)).lower()


def _luhn_complete(digits: str) -> str:
    """Append the digit that makes `digits` pass the Luhn check."""
    for last in "0123456789":
        candidate = digits + last
        total = sum((int(c) * 2 - 9 if int(c) * 2 > 9 else int(c) * 2) if i % 2 else int(c)
                    for i, c in enumerate(reversed(candidate)))
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable: one digit always completes a Luhn number")


def _some(rng: random.Random, choices, low: int, high: int) -> str:
    picked = set(rng.sample(list(choices), rng.randint(low, high)))
    return format_multi(c for c in choices if c in picked)  # list order, as validation writes it


def _stamp(day: date, rng: random.Random) -> str:
    return format_datetime(datetime.combine(day, time(rng.randint(8, 18), rng.randint(0, 59), rng.randint(0, 59))))


def _school_start(year: str) -> date:
    return date(int(year[:4]), 9, 1)


class _Maker:
    """Deterministic sources: IDs, phone numbers, SIRETs, UAIs and dates, all from one seeded generator.

    `today` anchors every date: the current school year is the one `today` falls in.
    """

    def __init__(self, seed: int, today: date):
        self.rng = random.Random(seed)
        self.today = today
        self.current = school_year_of(today)
        self.previous = school_year_of(_school_start(self.current) - timedelta(days=1))
        self.years = {PREVIOUS: self.previous, CURRENT: self.current}
        self._ids: set[str] = set()
        self._phones = iter(range(10_000))
        self._sirens: set[str] = set()

    def id(self, tab: str) -> str:
        prefix = default_schema().tab(tab).id_prefix
        while True:
            made = f"{prefix}-" + "".join(self.rng.choice(_ID_ALPHABET) for _ in range(8))
            if made not in self._ids:
                self._ids.add(made)
                return made

    def phone(self) -> str:
        return normalize_phone(f"01 99 00 {next(self._phones):04d}")  # stored canonical, like the forms do

    def siret(self) -> str:
        while True:
            siren = _luhn_complete(str(self.rng.randint(10_000_000, 99_999_999)))
            if siren not in self._sirens:
                self._sirens.add(siren)
                return _luhn_complete(siren + f"{self.rng.randint(1, 999):04d}")

    def day(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randint(0, max(0, (end - start).days)))

    def ago(self, low: int, high: int) -> date:
        return self.today - timedelta(days=self.rng.randint(low, high))

    @property
    def yesterday(self) -> date:
        return self.today - timedelta(days=1)


def _commune(maker: _Maker, dep: str) -> communes.Commune:
    """Mostly the main towns; sometimes any commune of the département (from communes_bfc.csv)."""
    if maker.rng.random() < 0.75:
        return communes.commune_by_insee(maker.rng.choice(TOWNS[dep]))
    return maker.rng.choice(sorted((c for c in communes.all_communes() if c.departement == dep),
                                   key=lambda c: c.insee))


def _place(record: dict, commune: communes.Commune) -> dict:
    return {**record, "code_postal": commune.codes_postaux[0], "commune_insee": commune.insee,
            "commune": commune.nom, "departement": commune.departement}


class _Names:
    """Unique (first name, last name) pairs, so no two demo people look like the same person."""

    def __init__(self, rng: random.Random):
        pairs = [(f, last) for f in FIRST_F + FIRST_M for last in LAST]
        rng.shuffle(pairs)
        self._pairs = iter(pairs)

    def next(self) -> tuple[str, str, str]:
        first, last = next(self._pairs)
        return ("Mme" if first in FIRST_F else "M."), first, last


def _registered(maker: _Maker, status: str) -> dict:
    """When the person joined: pending ones in the last weeks; the others at the start of the previous year or,
    for newcomers, in late spring for the current year (so before any of the current year's proposals)."""
    previous_start = _school_start(maker.previous)
    if status == "à valider":
        day = maker.ago(3, 45)
    elif maker.rng.random() < 0.75:
        day = maker.day(previous_start + timedelta(days=1), previous_start + timedelta(days=19))
    else:
        current_start = _school_start(maker.current)
        day = maker.day(current_start - timedelta(days=100), current_start - timedelta(days=65))
    return {CREATED_FIELD: _stamp(day, maker.rng)}


def _notice_version(created: str) -> str:
    """The privacy notice is versioned once a year, at the start of the school year ("2025-09")."""
    return school_year_of(date.fromisoformat(created[:10]))[:4] + "-09"


def _consents(maker: _Maker, created: str, source: str) -> dict:
    """Mostly both consents, given on registration; a few without the sharing consent, very few without any."""
    roll = maker.rng.random()
    if roll < 0.06:
        return {}
    return {"consentement_participation": created, "consentement_partage": created if roll >= 0.18 else "",
            "consentement_version": _notice_version(created),
            "consentement_source": {"saisie": "coordinateur"}.get(source, source)}


def _status_and_source(maker: _Maker, index: int, pending: int, archived: int) -> tuple[str, str]:
    if index < pending:
        return "à valider", "auto-inscription"
    if index < pending + archived:
        return "archivé", "saisie"
    return "validé", maker.rng.choice(("saisie", "saisie", "auto-inscription", "import"))


def _unique(index: DuplicateIndex, make: Callable[..., dict], *args) -> dict:
    """Draw records until one is not a probable duplicate of those already made (same rule as the app)."""
    while True:
        record = make(*args)
        if not index.find(record):
            index.add(record[ID_FIELD], record)
            return record


# ---- people -----------------------------------------------------------------------------------------------


def _company(maker: _Maker, names: _Names, dep: str, status: str, source: str) -> dict:
    rng = maker.rng
    kind, naf = rng.choice(KINDS)
    civilite, first, last = names.next()
    record = {
        ID_FIELD: maker.id("Entreprises"), "raison_sociale": f"{kind} Démo {rng.choice(LAST)}",
        "siret": maker.siret(), "naf": naf, "taille": rng.choice(("TPE (0-9)", "TPE (0-9)", "PE (10-49)",
                                                                  "PE (10-49)", "ME (50-249)", "ETI-GE (250 et +)")),
        "membre_cpme": "oui" if rng.random() < 0.85 else "non", "contact_civilite": civilite,
        "contact_nom": last, "contact_prenom": first, "contact_fonction": rng.choice(CONTACT_ROLES),
        "contact_email": f"demo.{_ascii(first)}.{_ascii(last)}@exemple-entreprise.fr",
        "contact_telephone": maker.phone() if rng.random() < 0.8 else "",
        "formats": _some(rng, default_schema().lists["formats_entreprise"], 1, 3),
        "thematiques": _some(rng, default_schema().lists["thematiques"], 1, 3),
        "fonctions_souhaitees": _some(rng, default_schema().lists["fonctions"], 0, 2),
        "capacite_annuelle": str(rng.choice((1, 1, 2, 2, 3))),
        "disponibilites": _some(rng, default_schema().lists["periodes"], 1, 3),
        "attendus": rng.choice(EXPECTATIONS_COMPANY), "statut": status, "source": source,
        **_registered(maker, status),
    }
    record.update(_consents(maker, record[CREATED_FIELD], source))
    if source == "import" and rng.random() < 0.5:  # came from a partner's list: to be informed within a month
        record["informer_avant"] = format_date(plus_one_month(date.fromisoformat(record[CREATED_FIELD][:10])))
    return _place(record, _commune(maker, dep))


def _staff(maker: _Maker, names: _Names, dep: str, status: str, source: str, schools: dict) -> dict:
    rng = maker.rng
    function = rng.choices([f for f, _ in STAFF_FUNCTIONS], [w for _, w in STAFF_FUNCTIONS])[0]
    civilite, first, last = names.next()
    domain = "ac-dijon.fr" if academie_of(dep) == "Dijon" else "ac-besancon.fr"
    uai, school, town = rng.choice(schools[dep])
    record = {
        ID_FIELD: maker.id("Personnels"), "civilite": civilite, "nom": last, "prenom": first, "fonction": function,
        "discipline": rng.choice(DISCIPLINES) if function == "professeur" else "",
        "uai": "" if function == "inspecteur" else uai, "etablissement": "" if function == "inspecteur" else school,
        "academie": academie_of(dep), "email": f"demo.{_ascii(first)}.{_ascii(last)}@{domain}",
        "telephone": maker.phone() if rng.random() < 0.4 else "",
        "thematiques": _some(rng, default_schema().lists["thematiques"], 1, 3),
        "formats": _some(rng, default_schema().lists["formats_entreprise"], 1, 3),
        "disponibilites": _some(rng, default_schema().lists["periodes"], 1, 3),
        "attendus": rng.choice(EXPECTATIONS_STAFF), "canal": rng.choice(default_schema().lists["canaux"]),
        "statut": status, "source": source, **_registered(maker, status),
    }
    record.update(_consents(maker, record[CREATED_FIELD], source))
    return _place(record, town if rng.random() < 0.8 else _commune(maker, dep))


def _schools(maker: _Maker) -> dict[str, list[tuple[str, str, communes.Commune]]]:
    """Three fictional establishments per département: UAI in the 99xx block, valid check letter."""
    found = {}
    for dep in COMPANIES_PER_DEP:
        picks = []
        for number, name in enumerate(maker.rng.sample(SCHOOLS, 3)):
            digits = f"0{dep}{9900 + 10 * number + maker.rng.randint(0, 9):04d}"
            town = communes.commune_by_insee(TOWNS[dep][number % len(TOWNS[dep])])
            picks.append((digits + uai_letter(digits), f"{name} ({town.nom})", town))
        found[dep] = picks
    return found


def _people(maker: _Maker) -> tuple[list[dict], list[dict]]:
    names = _Names(maker.rng)
    companies_index = DuplicateIndex(default_schema().tab("Entreprises"), [])
    staff_index = DuplicateIndex(default_schema().tab("Personnels"), [])
    companies, staff, schools = [], [], _schools(maker)
    for dep, count in COMPANIES_PER_DEP.items():
        for i in range(count):
            status, source = _status_and_source(maker, i, int(dep in ("21", "25", "71")), int(dep in ("21", "89")))
            companies.append(_unique(companies_index, _company, maker, names, dep, status, source))
    for dep, count in STAFF_PER_DEP.items():
        for i in range(count):
            status, source = _status_and_source(maker, i, int(dep in ("21", "25", "39", "71", "89", "90")),
                                                 int(dep in ("21", "25", "70")))
            staff.append(_unique(staff_index, _staff, maker, names, dep, status, source, schools))
    return companies, staff


# ---- meetings ---------------------------------------------------------------------------------------------


def _year_bounds(year: str) -> tuple[date, date]:
    """Meetings of a closed year took place from mid-November (proposed 25 to 50 days before) to June."""
    start = int(year[:4])
    return date(start, 11, 15), date(start + 1, 6, 20)


def _held_window(maker: _Maker) -> tuple[date, date]:
    """Current year: meetings already held fall in the last two months, never before the school year started."""
    start = _school_start(maker.current)
    end = max(start, maker.yesterday)
    return min(end, max(start + timedelta(days=14), end - timedelta(days=60))), end


def _planned_window(maker: _Maker) -> tuple[date, date]:
    """Current year: planned meetings in the coming weeks, within the school year."""
    year_end = _school_start(maker.current).replace(year=_school_start(maker.current).year + 1) - timedelta(days=1)
    first = min(maker.today + timedelta(days=2), year_end)
    return first, max(first, min(maker.today + timedelta(days=60), year_end))


def _meeting_dates(maker: _Maker, year: str, status: str) -> tuple[date, date]:
    """(meeting day, proposal day). Current year: proposals and acceptances in the past, planned days ahead."""
    rng = maker.rng
    if year == maker.previous:
        day = maker.day(*_year_bounds(year))
        return day, day - timedelta(days=rng.randint(25, 50))
    means = MeetingStatus(status).means
    if means.ahead and means.dated:
        return maker.day(*_planned_window(maker)), maker.ago(14, 40)
    if means.ahead and means.accepted:
        return maker.today, maker.ago(14, 40)  # the day is not fixed (yet, or any more): not written
    if means.ahead:
        return maker.today, maker.ago(7, 21)
    day = maker.day(*_held_window(maker))
    return day, day - timedelta(days=rng.randint(25, 50))


def _can_meet(row: dict, year: str) -> bool:
    """Validated, consenting, and registered before the year's first proposals (late September)."""
    return (row["statut"] in ("validé", "archivé") and bool(row.get("consentement_participation"))
            and row[CREATED_FIELD] < f"{year[:4]}-09-25")


def _pairs(maker: _Maker, companies: list[dict], staff: list[dict], year: str, count: int) -> list[tuple]:
    """Company–staff pairs in the same académie (mostly the same département), within each company's capacity."""
    load: dict[str, int] = {}
    pairs, used_staff = [], set()
    candidates = [c for c in companies if _can_meet(c, year)]
    for _ in range(100 * count):  # bounded: a too small dataset fails loudly instead of looping
        if len(pairs) == count:
            return pairs
        company = maker.rng.choice(candidates)
        if load.get(company[ID_FIELD], 0) >= int(company["capacite_annuelle"]):
            continue
        free = [s for s in staff if _can_meet(s, year) and s[ID_FIELD] not in used_staff]
        same_dep = [s for s in free if s["departement"] == company["departement"]]
        same_academie = [s for s in free if s["departement"] in ACADEMIES[academie_of(company["departement"])]]
        pool = same_dep if same_dep and maker.rng.random() < 0.8 else same_academie
        if not pool:
            continue
        person = maker.rng.choice(pool)
        used_staff.add(person[ID_FIELD])
        load[company[ID_FIELD]] = load.get(company[ID_FIELD], 0) + 1
        pairs.append((company, person))
    raise AssertionError(f"demo: only {len(pairs)} of {count} meetings could be paired for {year}")


def _meeting_format(maker: _Maker, company: dict) -> tuple[str, str, str]:
    offered = company["formats"].split("; ")
    visite = "avant" if "visite avant" in offered else "après" if "visite après" in offered else "aucune"
    main = [f for f in ("déjeuner", "salon") if f in offered]
    fmt = maker.rng.choice(main) if main else "visite"
    place = {"déjeuner": f"Restaurant Le Démo, {company['commune']}",
             "salon": f"Salon école-entreprise Démo, {company['commune']}"}.get(
        fmt, f"{company['raison_sociale']}, {company['commune']}")
    return fmt, ("aucune" if fmt == "visite" and visite == "aucune" else visite), place


def _review(maker: _Maker, meeting: dict, both_sides: bool) -> None:
    rng = maker.rng
    sides = ("entreprise", "personnel") if both_sides else (rng.choice(("entreprise", "personnel")),)
    for side in sides:
        meeting.update({f"conclusions_{side}": rng.choice(CONCLUSIONS),
                        f"satisfaction_{side}": str(rng.choice((3, 4, 4, 5, 5))),
                        f"comprehension_{side}": str(rng.choice((3, 4, 4, 5, 5))),
                        f"recommande_{side}": "oui" if rng.random() < 0.9 else "non"})
    meeting["suite_envisagee"] = rng.choice(("partenariat", "invitation", "partenariat; invitation", "aucune"))


def _meeting(maker: _Maker, company: dict, person: dict, year: str, status: str) -> dict:
    rng = maker.rng
    day, proposed = _meeting_dates(maker, year, status)
    meeting = {ID_FIELD: maker.id("Rencontres"), "entreprise_id": company[ID_FIELD],
               "personnel_id": person[ID_FIELD], "annee_scolaire": year, "statut": status,
               "score": f"{rng.uniform(0.55, 0.95):.2f}", CREATED_FIELD: _stamp(proposed, rng)}
    accepted_company = _stamp(proposed + timedelta(days=rng.randint(1, 6)), rng)
    accepted_staff = _stamp(proposed + timedelta(days=rng.randint(7, 12)), rng)
    means = MeetingStatus(status).means
    if status == MeetingStatus.REFUSED or not (means.accepted or means.needs_reason):  # never accepted by both
        if rng.random() < 0.5:
            meeting["acceptation_entreprise"] = accepted_company
        if means.needs_reason:
            meeting["motif"] = rng.choice(REFUSALS)
        return meeting
    meeting.update({"acceptation_entreprise": accepted_company, "acceptation_personnel": accepted_staff,
                    "attendus_entreprise": rng.choice(EXPECTATIONS_COMPANY),
                    "attendus_personnel": rng.choice(EXPECTATIONS_STAFF)})
    if company.get("consentement_partage") and person.get("consentement_partage"):
        meeting["introduction_envoyee"] = _stamp(proposed + timedelta(days=13), rng)
    if means.needs_reason:  # cancelled after both accepted
        meeting["motif"] = rng.choice(CANCELLATIONS)
        return meeting
    if not means.dated:
        return meeting
    fmt, visite, place = _meeting_format(maker, company)
    hour = f"{rng.choice((9, 10, 12, 14, 16)):02d}:{rng.choice((0, 30)):02d}"
    meeting.update({"date": format_date(day), "heure": hour, "lieu": place, "format": fmt, "visite": visite})
    if means.concluded:
        _review(maker, meeting, both_sides=rng.random() < 0.7)
    return meeting


def _meetings(maker: _Maker, companies: list[dict], staff: list[dict]) -> list[dict]:
    meetings = []
    for which, plan in MEETING_PLAN.items():
        year = maker.years[which]
        statuses = [status for status, n in plan.items() for _ in range(n)]
        eligible = [c for c in companies if which == PREVIOUS or c["statut"] != "archivé"]
        people = [s for s in staff if which == PREVIOUS or s["statut"] != "archivé"]
        for (company, person), status in zip(_pairs(maker, eligible, people, year, len(statuses)), statuses,
                                             strict=True):
            meetings.append(_meeting(maker, company, person, year, status))
    return meetings


# ---- partnerships, events, requests, users ----------------------------------------------------------------


def _partnerships(maker: _Maker, meetings: list[dict], staff_by_id: dict, companies_by_id: dict) -> list[dict]:
    rng = maker.rng
    found = []
    for meeting in meetings:
        person = staff_by_id[meeting["personnel_id"]]
        if "partenariat" not in meeting.get("suite_envisagee", "") or not person["uai"] or len(found) >= 7:
            continue
        held = date.fromisoformat(meeting["date"])
        begins = held + timedelta(days=rng.randint(20, 60))
        previous = meeting["annee_scolaire"] == maker.previous
        found.append({
            ID_FIELD: maker.id("Partenariats"), "uai": person["uai"], "etablissement": person["etablissement"],
            "entreprise_id": meeting["entreprise_id"], "rencontre_id": meeting[ID_FIELD],
            "types": _some(rng, default_schema().lists["types_partenariat"][:4], 1, 2),
            "statut": rng.choice(("actif", "terminé")) if previous else rng.choice(("envisagé", "actif")),
            "date_debut": format_date(begins), "annee_scolaire": meeting["annee_scolaire"],
            "description": "Partenariat né de la rencontre avec "
                           f"{companies_by_id[meeting['entreprise_id']]['raison_sociale']}.",
            CREATED_FIELD: _stamp(min(held + timedelta(days=7), maker.yesterday), rng),
        })
    return found


def _events(maker: _Maker, partnerships: list[dict], companies_by_id: dict) -> list[dict]:
    rng = maker.rng
    events = []
    for number, partnership in enumerate(partnerships[:5]):
        company = companies_by_id[partnership["entreprise_id"]]
        by_company = number % 2 == 0
        day = date.fromisoformat(partnership["date_debut"]) + timedelta(days=rng.randint(14, 40))
        events.append({
            ID_FIELD: maker.id("Evenements"),
            "titre": "Portes ouvertes Démo" if by_company else "Forum des métiers Démo",
            "organisateur": "entreprise" if by_company else "établissement",
            "entreprise_id": company[ID_FIELD] if by_company else "", "uai": "" if by_company else partnership["uai"],
            "partenariat_id": partnership[ID_FIELD], "date": format_date(day),
            "lieu": company["commune"] if by_company else partnership["etablissement"],
            "invites": partnership["etablissement"] if by_company else company["raison_sociale"],
            "participants": "Une classe de première et deux enseignants" if by_company else "Trois salariés",
            "description": "Temps fort organisé dans le cadre du partenariat.",
            CREATED_FIELD: _stamp(min(day - timedelta(days=21), maker.yesterday), rng),
        })
    return events


def _request_dates(today: date, days_ago: int) -> dict[str, str]:
    received = today - timedelta(days=days_ago)
    return {"recue_le": format_date(received), "echeance": format_date(plus_one_month(received))}


def _requests(companies: list[dict], staff: list[dict], today: date) -> list[dict]:
    """One request answered, one in progress, one just received (answer due within a month)."""
    active = [s for s in staff if s["statut"] == "validé"]
    return [
        {"personne_tab": "Personnels", "personne_id": active[3][ID_FIELD], "type": "accès",
         **_request_dates(today, 60), "statut": "traitée", "traitee_le": format_date(today - timedelta(days=43)),
         "notes": "Extraction des données envoyée par courriel."},
        {"personne_tab": "Entreprises", "personne_id": companies[-1][ID_FIELD], "type": "rectification",
         **_request_dates(today, 20), "statut": "en cours", "notes": "Nouvelle fonction du contact à reporter."},
        {"personne_tab": "Personnels", "personne_id": active[-1][ID_FIELD], "type": "opposition",
         **_request_dates(today, 4), "statut": "reçue"},
    ]


def _users() -> list[dict]:
    return [{"email": email, "nom": name, "role": role, "perimetre": scope, "actif": "oui"}
            for email, name, role, scope in USERS]


def demo_records(seed: int = 2025, today: date | None = None) -> dict[str, list[dict[str, str]]]:
    """Every demo record by tab, as cell text (canonical, as the forms would write it).

    Dates are relative to `today` (default: today in Paris). Same seed and same day, same data.
    """
    today = today or now_paris().date()
    maker = _Maker(seed, today)
    companies, staff = _people(maker)
    meetings = _meetings(maker, companies, staff)
    companies_by_id = {c[ID_FIELD]: c for c in companies}
    partnerships = _partnerships(maker, meetings, {s[ID_FIELD]: s for s in staff}, companies_by_id)
    requests = [{ID_FIELD: maker.id("Demandes RGPD"), **r} for r in _requests(companies, staff, today)]
    users = [{ID_FIELD: maker.id("Utilisateurs"), **u} for u in _users()]
    return {"Utilisateurs": users, "Entreprises": companies, "Personnels": staff, "Rencontres": meetings,
            "Partenariats": partnerships, "Evenements": _events(maker, partnerships, companies_by_id),
            "Demandes RGPD": requests}


# ---- loading ----------------------------------------------------------------------------------------------


def semaine_ecole_entreprise(year: str) -> tuple[date, date]:
    """The demo's week: Monday to Friday of the third full week of January of the school year."""
    january_15 = date(int(year[:4]) + 1, 1, 15)
    monday = january_15 + timedelta(days=(7 - january_15.weekday()) % 7)
    return monday, monday + timedelta(days=4)


def demo_parameters(today: date) -> dict[str, str]:
    """The Parametres values that go with a demo made on `today`: its school year and week."""
    year = school_year_of(today)
    first, last = semaine_ecole_entreprise(year)
    # The consents of the demo cite the notice of their school year (_notice_version): both were published.
    versions = ", ".join(str(int(year[:4]) + delta) + "-09" for delta in (-1, 0))
    return {"annee_scolaire": year, "semaine_ee_debut": format_date(first), "semaine_ee_fin": format_date(last),
            "versions_notice_publiees": versions}


def _set_parameters(store, snapshot, wanted: dict[str, str]) -> int:
    """Update the Parametres rows init created (with their fingerprint); append a key only if its row is gone.

    A value someone already changed from the documented default is kept: the demo never overrides a real setting.
    """
    defaults = default_schema().tab("Parametres").defaults
    rows = {row["cle"].strip(): row for row in snapshot.rows("Parametres")}
    changed = 0
    for key, value in wanted.items():
        row = rows.get(key)
        if row is None:
            store.append("Parametres", [{"cle": key, "valeur": value,
                                         "description": str(defaults.get(key, {}).get("description", ""))}])
            changed += 1
        elif row["valeur"].strip() in ("", str(defaults.get(key, {}).get("valeur", ""))) and row["valeur"] != value:
            store.update("Parametres", row.id, {"valeur": value}, row.fingerprint)
            changed += 1
    return changed


def load_demo(store, force: bool = False, on_progress: Callable[[float, str], None] | None = None,
              seed: int = 2025, today: date | None = None) -> dict[str, int]:
    """Append the demo dataset; returns how many rows were added per tab (and Parametres values set).

    Refuses (DemoRefused) when Entreprises, Personnels or Rencontres already hold rows, unless `force`.
    `force` archives and deletes nothing: it loads on top of what is there. Demo IDs are fixed by the seed (and
    the day), so rows already present with the same ID are not written twice (the store's append is
    idempotent), and a demo user whose email is already in Utilisateurs is skipped.
    """
    today = today or now_paris().date()
    snapshot = store.read()
    filled = {tab: len(snapshot.rows(tab)) for tab in PEOPLE_TABS}
    if any(filled.values()) and not force:
        raise DemoRefused(filled)
    records = demo_records(seed, today)
    emails = {row["email"].strip().lower() for row in snapshot.rows("Utilisateurs")}
    records["Utilisateurs"] = [u for u in records["Utilisateurs"] if u["email"] not in emails]
    counts = {}
    for step, tab in enumerate(LOAD_ORDER):
        new = [r for r in records[tab] if snapshot.get(tab, r[ID_FIELD]) is None]
        if on_progress:
            on_progress(step / len(LOAD_ORDER), f"Chargement de l'onglet « {tab} » ({len(new)} lignes)…")
        if new:
            store.append(tab, new)
        counts[tab] = len(new)
    counts["Parametres"] = _set_parameters(store, snapshot, demo_parameters(today))
    if on_progress:
        on_progress(1.0, "Données de démonstration chargées.")
    return counts

"""Calendar of meetings with a date, week by week, with the semaine école-entreprise marked (Parametres)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from ...domain.statuses import meeting_statuses
from ...domain.values import parse_date
from ...store.base import Row, Snapshot
from ..kernel import access
from .lifecycle import PLANNED, TAB, meeting_day, parameter, status_of

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
SCHEDULED = meeting_statuses("dated")  # meetings that have (or had) a fixed date


def french_date(day: dt.date, weekday: bool = False) -> str:
    """19 janvier 2026, 1er mars 2026; with weekday: lundi 19 janvier 2026."""
    number = "1er" if day.day == 1 else str(day.day)
    text = f"{number} {MONTHS[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[day.weekday()]} {text}" if weekday else text


def french_time(text: str) -> str:
    """"12:30" → "12 h 30", "09:00" → "9 h"; anything else is returned as typed."""
    try:
        hour, minute = (int(part) for part in text.strip().split(":")[:2])
    except ValueError:
        return text.strip()
    return f"{hour} h" if minute == 0 else f"{hour} h {minute:02d}"


@dataclass(frozen=True)
class CalendarItem:
    meeting_id: str
    day: dt.date
    heure: str
    lieu: str
    format: str
    visite: str
    statut: str
    entreprise: str  # company name (not personal data)
    etablissement: str  # staff member's school, never the person's name


@dataclass
class Week:
    monday: dt.date
    ee_week: bool  # overlaps the semaine école-entreprise
    items: list[CalendarItem] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"Semaine du {french_date(self.monday)}"

    @property
    def title(self) -> str:
        return f"{self.label} — semaine école-entreprise" if self.ee_week else self.label

    @property
    def iso_week(self) -> int:
        return self.monday.isocalendar().week


def ee_week(snapshot: Snapshot) -> tuple[dt.date, dt.date] | None:
    """The semaine école-entreprise from Parametres, None when missing or unreadable."""
    try:
        start = parse_date(parameter(snapshot, "semaine_ee_debut"))
        end = parse_date(parameter(snapshot, "semaine_ee_fin"))
    except ValueError:
        return None
    return (start, end) if start <= end else None


def _item(snapshot: Snapshot, row: Row, day: dt.date) -> CalendarItem:
    company = snapshot.get("Entreprises", row["entreprise_id"])
    staff = snapshot.get("Personnels", row["personnel_id"])
    return CalendarItem(
        meeting_id=row.id, day=day, heure=row["heure"], lieu=row["lieu"], format=row["format"],
        visite=row["visite"], statut=status_of(row),
        entreprise=company["raison_sociale"] if company else row["entreprise_id"],
        etablissement=(staff["etablissement"] or staff["uai"]) if staff else "",
    )


def week_view(snapshot: Snapshot, start: dt.date, weeks: int = 4) -> list[Week]:
    """`weeks` consecutive ISO weeks from the one containing `start`, each with its dated meetings in order."""
    first = start - dt.timedelta(days=start.weekday())
    marked = ee_week(snapshot)
    view = []
    for offset in range(max(weeks, 0)):
        monday = first + dt.timedelta(weeks=offset)
        sunday = monday + dt.timedelta(days=6)
        overlaps = marked is not None and marked[0] <= sunday and monday <= marked[1]
        view.append(Week(monday, overlaps))
    if not view:
        return view
    for row in snapshot.rows(TAB):
        day = meeting_day(row)
        if status_of(row) in SCHEDULED and day is not None and first <= day < first + dt.timedelta(weeks=weeks):
            view[(day - first).days // 7].items.append(_item(snapshot, row, day))
    for week in view:
        week.items.sort(key=lambda item: (item.day, item.heure, item.meeting_id))
    return view


def week_view_for(user, snapshot: Snapshot, start: dt.date, weeks: int = 4) -> list[Week]:
    """`week_view` with only the meetings in the user's scope."""
    visible = _visible(user, snapshot)
    view = week_view(snapshot, start, weeks)
    for week in view:
        week.items = [item for item in week.items if item.meeting_id in visible]
    return view


def next_planned(user, snapshot: Snapshot, after: dt.date) -> dt.date | None:
    """The first day after `after` with a planned meeting in the user's scope (for an empty period)."""
    visible = _visible(user, snapshot)
    days = [meeting_day(r) for r in snapshot.rows(TAB) if r.id in visible and status_of(r) == PLANNED]
    later = sorted(d for d in days if d and d > after)
    return later[0] if later else None


def _visible(user, snapshot: Snapshot) -> set[str]:
    return {r["id"] for r in access.visible_rows(user, TAB, snapshot)}


def week_frame(view: list[Week]) -> pd.DataFrame:
    """One line per meeting, French headers, for st.dataframe."""
    lines = [{"Semaine": week.title, "Jour": french_date(item.day, weekday=True), "Heure": french_time(item.heure),
              "Entreprise": item.entreprise, "Établissement": item.etablissement, "Lieu": item.lieu,
              "Format": item.format, "Visite": item.visite, "Statut": item.statut, "ID": item.meeting_id}
             for week in view for item in week.items]
    columns = ["Semaine", "Jour", "Heure", "Entreprise", "Établissement", "Lieu", "Format", "Visite", "Statut", "ID"]
    return pd.DataFrame(lines, columns=columns)

"""What a coordinator is shown when their save lost the race: their entry beside the sheet's current version."""

from __future__ import annotations

from ...domain.roles import User
from ...domain.schema import default_schema
from ...store.base import Conflict, Snapshot
from .access import may_see_field

HIDDEN = "(masqué)"
BOOKKEEPING = ("id", "created_at", "updated_at")


def conflict_table(user: User, conflict: Conflict, snapshot: Snapshot) -> list[dict[str, str]]:
    """One line per field that someone else changed or that the user tried to change; a value the user may not
    see (e.g. the other side's contact written meanwhile) reads "(masqué)", as everywhere else."""
    tab = default_schema().tab(conflict.tab)
    changed = conflict.changed_fields()
    names = [n for n in tab.field_names if (n in changed or n in conflict.attempted) and n not in BOOKKEEPING]
    lines = []
    for name in names:
        field = tab.field(name)
        visible = may_see_field(user, conflict.tab, field, conflict.current, snapshot)
        current = conflict.current[name] if visible else HIDDEN
        attempted = conflict.attempted.get(name, "") if visible else HIDDEN
        state = "modifié depuis votre lecture" if name in changed else "inchangé"
        if name in conflict.attempted and name in changed:
            state = "modifié des deux côtés"
        lines.append({"Champ": field.header, "Votre saisie": attempted if name in conflict.attempted else "",
                      "Version actuelle de la feuille": current, "État": state})
    return lines

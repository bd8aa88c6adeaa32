"""Google's answers become French messages: the English text of an API error never reaches a user.

Google's own message is kept on the error (`detail`) and written to the server log for whoever investigates.
"""

from __future__ import annotations

import logging
import re

from gspread.exceptions import APIError

from .. import errors
from .base import PermissionDenied, QuotaExceeded, SpreadsheetNotFound, StoreError, Unreachable

log = logging.getLogger(__name__)
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}

# (pattern in Google's message, French explanation) for the 400 answers a person's editing can cause.
_REFUSALS = (
    (r"protected cell|protected range", "une plage protégée de la feuille empêche le compte de service d'y écrire : "
                                        "retirez la protection ou donnez-lui les droits"),
    (r"exceeds grid limits|beyond the end of the sheet|doesn't exist",
     "la feuille a changé de taille pendant l'écriture (lignes ou colonnes supprimées)"),
    (r"already exists", "un onglet ou un élément du même nom existe déjà"),
    (r"Unable to parse range|No grid with id", "un onglet a été supprimé ou renommé pendant l'écriture"),
    (r"maximum of 50000 characters|50000 characters", "une cellule dépasserait 50 000 caractères, la limite de Google"),
    (r"above the limit of [\d,]+ cells|cells in the workbook",
     "le classeur dépasserait la limite de cellules de Google"),
    (r"30,000 character|developer metadata", "les métadonnées de l'application dans le classeur sont pleines"),
)


def _reason(message: str) -> str:
    for pattern, french in _REFUSALS:
        if re.search(pattern, message, re.IGNORECASE):
            return french
    return "demande refusée"


class GoogleRefused(StoreError, errors.Unavailable):
    """A 4xx answer other than access and quota: `detail` keeps Google's English text for the log."""

    def __init__(self, code: int, detail: str):
        self.code, self.detail = code, detail
        super().__init__(f"Google Sheets a refusé l'écriture ou la lecture (erreur {code} : {_reason(detail)}). "
                         "Rien n'a été modifié par cette demande ; réessayez, et si l'erreur revient, "
                         "signalez-la à l'administrateur.")


def translate(error: APIError, key: str, service_account: str) -> StoreError:
    code = error.code
    message = str(error.error.get("message", "")) if isinstance(error.error, dict) else str(error)
    log.warning("Google Sheets API error %s on %s: %s", code, key, message)
    if code == 404:
        return SpreadsheetNotFound(f"Classeur introuvable : vérifiez la clé « {key} » dans la "
                                   "configuration (secrets.toml ou ECOLE_ENTREPRISE_SPREADSHEET).")
    if code == 403 and not re.search(r"protected", message, re.IGNORECASE):
        who = service_account or "le compte de service de l'application"
        return PermissionDenied(f"Accès refusé au classeur « {key} ». Partagez le classeur avec {who} "
                                "en tant qu'éditeur.")
    if code == 401:
        return PermissionDenied("Google refuse les identifiants du compte de service : vérifiez la clé JSON "
                                "dans la configuration.")
    if code == 429:
        return QuotaExceeded("Quota de requêtes Google Sheets dépassé, malgré plusieurs essais : patientez "
                             "une minute puis réessayez.")
    if code in TRANSIENT_STATUS or code >= 500:
        return Unreachable(f"Google Sheets est injoignable ou indisponible (erreur {code}), malgré plusieurs "
                           "essais : réessayez dans quelques instants.")
    return GoogleRefused(code, message)

"""The privacy notice and the processing register (GDPR art. 30), as Markdown built from the Parametres tab."""

from __future__ import annotations

from ..kernel.parameters import int_parameter, parameters  # noqa: F401  (re-exported for pages)

CNIL = ("Commission nationale de l'informatique et des libertés (CNIL), 3 place de Fontenoy, TSA 80715, "
        "75334 Paris Cedex 07")


def privacy_notice(params: dict[str, str]) -> str:
    p = {**parameters(None), **params}
    return f"""# Notice d'information — Rencontres École–Entreprise BFC

*Version {p['version_notice']}*

## Responsable du traitement
{p['responsable_traitement']}, dans le cadre du programme « Les chefs d'entreprise invitent l'Éducation nationale »,
mené avec la CPME Bourgogne-Franche-Comté.

**Délégué à la protection des données** : {p['dpo_contact']}

## Finalités
- recenser les entreprises volontaires et les personnels de l'Éducation nationale volontaires ;
- proposer et organiser des rencontres entre un chef d'entreprise et un personnel, puis en recueillir le bilan ;
- suivre les partenariats et événements qui en découlent ;
- produire des statistiques agrégées pour le comité de pilotage.

## Bases légales
- **Mission d'intérêt public** (article 6-1-e du RGPD) : le recensement, l'appariement et le suivi des rencontres
  relèvent de la mission des académies de Dijon et de Besançon en matière de relation école-entreprise.
- **Consentement** (article 6-1-a du RGPD) : la transmission de vos coordonnées professionnelles à la personne
  que vous rencontrerez n'a lieu qu'avec votre consentement, retirable à tout moment sans justification.

## Données traitées
Identité (civilité, nom, prénom), coordonnées professionnelles (courriel, téléphone), informations
professionnelles (fonction, établissement ou entreprise, commune), thèmes et disponibilités, attentes et
conclusions exprimées, dates et versions des consentements.

## Destinataires
- le service école-entreprise de la région académique (administration de l'outil) ;
- les coordinateurs académiques (personnels de leur périmètre) et les coordinateurs CPME (entreprises de leur
  périmètre) ;
- la personne rencontrée : vos coordonnées professionnelles uniquement, avec votre consentement, après
  acceptation de la rencontre par les deux parties ; chaque consultation est journalisée ;
- le comité de pilotage : uniquement des statistiques agrégées, sans donnée nominative.

## Durées de conservation
- fiches sans activité : anonymisées après {p['retention_mois']} mois sans mise à jour ni rencontre ;
- journal des connexions, consultations, exports et divulgations : {p['journal_retention_mois']} mois.

## Vos droits
Vous pouvez demander l'accès à vos données, leur rectification, leur effacement, la limitation du traitement ou
vous opposer au traitement fondé sur la mission d'intérêt public, et retirer votre consentement à tout moment.
Écrivez au délégué à la protection des données ({p['dpo_contact']}). Une réponse vous est apportée dans un délai
d'un mois, prolongeable de deux mois pour les demandes complexes (vous en êtes alors informé dans le premier mois).

## Réclamation
Si vous estimez que vos droits ne sont pas respectés, vous pouvez adresser une réclamation à la {CNIL}.
"""


def processing_register(params: dict[str, str]) -> str:
    p = {**parameters(None), **params}
    entries = [
        ("Traitement", "Rencontres École–Entreprise BFC — programme « Les chefs d'entreprise invitent "
                       "l'Éducation nationale »"),
        ("Responsable du traitement", p["responsable_traitement"]),
        ("Délégué à la protection des données", p["dpo_contact"]),
        ("Finalités", "Recensement des volontaires ; appariement et organisation des rencontres ; suivi des "
                      "partenariats et événements ; statistiques agrégées de pilotage"),
        ("Bases légales", "Mission d'intérêt public (art. 6-1-e) pour le traitement mené par les académies ; "
                          "consentement (art. 6-1-a) pour la transmission des coordonnées à la personne rencontrée"),
        ("Personnes concernées", "Chefs d'entreprise et contacts des entreprises adhérentes de la CPME BFC ; "
                                 "personnels de l'Éducation nationale volontaires ; utilisateurs de l'outil"),
        ("Catégories de données", "Identité ; coordonnées professionnelles ; informations professionnelles ; "
                                  "attentes et conclusions (texte libre) ; consentements (date, version de notice, "
                                  "source) ; journal d'audit"),
        ("Destinataires", "Service école-entreprise ; coordinateurs académiques et CPME dans leur périmètre ; "
                          "personne rencontrée (coordonnées, sur consentement) ; comité de pilotage (agrégats "
                          "seulement) ; hébergeur du tableur partagé en qualité de sous-traitant"),
        ("Transferts hors UE", "Aucun prévu par l'application ; à vérifier dans le contrat de l'hébergeur du tableur"),
        ("Durées de conservation", f"Anonymisation après {p['retention_mois']} mois d'inactivité ; journal conservé "
                                   f"{p['journal_retention_mois']} mois"),
        ("Mesures de sécurité", "Accès par rôle et périmètre, compte relu à chaque action ; connexion par le "
                                "fournisseur d'identité ou par mot de passe (empreinte scrypt salée) ; masquage des "
                                "données côté serveur ; divulgation des coordonnées conditionnée au consentement et "
                                "journalisée ; journal signé (HMAC-SHA256, clé hors du tableur) dont la tête est "
                                "ancrée hors du tableur, vérifié par l'application avec alerte ; anonymisation et "
                                "purge automatisées ; export des données d'une personne sur demande"),
        ("Journalisation", "Connexions réussies et refusées ; consultations de listes et de fiches nominatives ; "
                           "divulgations de coordonnées ; exports et imports ; créations, modifications et "
                           "transitions ; consentements ; demandes RGPD ; purges (avec ce qu'elles suppriment). "
                           "Chaque entrée : horodatage, acteur, action, onglet et ID, champs, finalité — jamais une "
                           f"valeur personnelle. Conservation : {p['journal_retention_mois']} mois, puis purge "
                           "elle-même journalisée"),
        ("Notice d'information", f"Version {p['version_notice']}"),
    ]
    rows = "\n".join(f"| {name} | {text.replace('|', '/')} |" for name, text in entries)
    return f"# Registre des activités de traitement (article 30 du RGPD)\n\n| Rubrique | Contenu |\n|---|---|\n{rows}\n"

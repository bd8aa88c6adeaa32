"""Command line: `python -m ecole_entreprise COMMAND`. Thin: parses arguments, calls services, prints French text."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from .config import load_settings
from .domain.values import now_paris
from .store import build_store
from .store.base import StoreError


def _store():
    return build_store(load_settings())


def cmd_init(args) -> int:
    store = _store()
    report = store.init()
    where = store.describe()
    print(f"Données : {where['title']} ({where['location']})")
    for tab in report.created_tabs:
        print(f"  onglet créé : {tab}")
    for tab, headers in report.missing_columns.items():
        print(f"  {tab} : colonnes ajoutées en fin de ligne d'en-tête : {', '.join(headers)}")
    for tab, headers in report.extra_columns.items():
        print(f"  {tab} : colonnes ajoutées à la main (conservées) : {', '.join(headers)}")
    for line in report.applied:
        print(f"  mis en place : {line}")
    for note in report.notes:
        print(f"  {note}")
    if not (report.created_tabs or report.drift or report.notes or report.applied):
        print("  tous les onglets sont conformes au schéma, leur mise en forme est en place.")
    return 0


def cmd_demo(args) -> int:
    from .services.census.demo import DemoRefused, load_demo

    store = _store()
    store.init()
    try:
        counts = load_demo(store, force=args.force,
                           on_progress=lambda fraction, message: print(f"  {fraction:>4.0%} {message}"))
    except DemoRefused as refused:
        print(str(refused), file=sys.stderr)
        return 1
    print("Données de démonstration chargées : " + ", ".join(f"{n} {tab}" for tab, n in counts.items()))
    return 0


def cmd_check(args) -> int:
    """Streams: one tab is read, checked and printed at a time (a fresh store each time, so that only that tab and
    the IDs of the tabs before it are in memory); on the local workbook the Journal is read in pieces, of which
    only each entry's place, ID and hashes are kept, to verify its chain at the end."""
    from .services.census.corrections import rewrite_corrections
    from .services.census.quality import anomaly_line, iter_check, locale_warning
    from .services.kernel.access import SYSTEM_USER
    from .services.kernel.journal import TAB as JOURNAL
    from .services.kernel.journal import audit, configured_key, content_problem
    from .services.kernel.workbook_recovery import check_lines

    links, altered, key = [], {}, configured_key()  # the Journal's entries, lean; row number → why its content fails

    def keep_links(data) -> None:
        for row in data.rows:
            link = _ChainLink(row)
            if links and link.hash_precedent == links[-1].hash:
                link.hash_precedent = links[-1].hash  # one string for the two places a hash stands (memory at 16×)
            links.append(link)
            if (problem := content_problem(row, key)) is not None:
                altered[row.row_number] = problem

    def read_tab(name: str):
        store = _store()
        whole = getattr(store, "read_streamed", None)  # the local workbook: no copy of the file is held
        data = whole(name) if whole is not None else store.read(tabs=[name]).tabs.get(name)
        if name == JOURNAL and data is not None:
            keep_links(data)
        return data

    def read_pieces(name: str):
        store = _store()
        if not hasattr(store, "read_pieces"):  # Google: one read of the tab
            return None
        return linked(store.read_pieces(name)) if name == JOURNAL else store.read_pieces(name)

    def linked(pieces):
        for piece in pieces:
            keep_links(piece)
            yield piece

    count = 0
    for anomaly in iter_check(read_tab, _store().schema, read_pieces):
        print(anomaly_line(anomaly))
        count += 1
    store = _store()
    chain = audit(store, links, intact=lambda link: altered.get(link.row_number))  # signatures and the anchor
    links.clear()  # before the workbook is read again below
    print(f"{count} anomalie(s) dans les données.")
    print("Journal : " + chain.message_fr)
    for note in chain.notes:
        print("Journal, attention : " + note)
    erased = check_lines(store)
    for line in erased:
        print("Classeur : " + line)
    if warning := locale_warning(store):
        print("Attention : " + warning)
    if args.sheet:
        rewritten = rewrite_corrections(store, SYSTEM_USER)
        print(rewritten.message, file=sys.stdout if rewritten.ok else sys.stderr)
        if not rewritten.ok:
            return 2
    if not chain.ok:
        return 3  # the journal was altered: its own code, above data anomalies (README « Commandes en ligne »)
    return 1 if count or erased else 0


def cmd_journal_key(args) -> int:
    import secrets as random

    from .config import anchor_path

    settings = load_settings()
    if settings.journal_key and not args.force:
        print("Une clé de journal est déjà configurée : la remplacer rendrait les entrées déjà signées "
              "invérifiables. Ajoutez --force pour en créer une autre quand même.", file=sys.stderr)
        return 1
    print("Clé de signature du journal (HMAC-SHA256), à ne jamais mettre dans la feuille :")
    print(f"\n[journal]\nkey = \"{random.token_hex(32)}\"\n")
    print("Ajoutez ces deux lignes à .streamlit/secrets.toml (chmod 600) sur le serveur — ou donnez la valeur à "
          "ECOLE_ENTREPRISE_JOURNAL_KEY —, gardez-en une copie hors du serveur (coffre de mots de passe du "
          "service), puis redémarrez l'application.")
    print(f"Ancre du journal (tête de la chaîne, hors de la feuille) : {anchor_path(settings)} "
          "(réglable par [journal] anchor).")
    return 0


class _ChainLink:
    """What the chain and anchor checks read of a Journal entry once `check` has compared its content with its
    hash: its place, ID, action and two hashes (and a purge's details, which say where the journal now starts),
    a few dozen bytes where a whole row holds every cell."""

    __slots__ = ("id", "row_number", "hash", "hash_precedent", "action", "details")

    def __init__(self, row):
        from .services.kernel.journal import PURGE_ACTION

        self.id, self.row_number, self.hash, self.hash_precedent = row.id, row.row_number, row["hash"], \
            row["hash_precedent"]
        self.action = row["action"]
        self.details = row["details"] if self.action == PURGE_ACTION else ""

    def __getitem__(self, name: str) -> str:
        return getattr(self, name)


def cmd_import(args) -> int:
    from .services.census.imports import import_cli

    code, text = import_cli(_store(), args.tab, Path(args.file), args.dry_run, third_party=args.liste_tierce,
                            constants={"canal": args.canal or "", "fonction": args.fonction or ""},
                            limits=load_settings().limits)
    print(text)
    return code


def cmd_purge(args) -> int:
    from .services.census.registration import purge_unconfirmed
    from .services.kernel.journal import fresh_snapshot
    from .services.privacy.retention import purge

    store = _store()
    report = purge(store, date.today(), dry_run=args.dry_run)
    print(report.summary_fr())
    hours = load_settings().registration.confirm_within_hours
    print(purge_unconfirmed(store, fresh_snapshot(store), now_paris(), hours, dry_run=args.dry_run))
    return 0


def cmd_report(args) -> int:
    from .services.bilan.compute import BilanFilterError
    from .services.bilan.report import report_cli

    store = _store()
    try:
        report_cli(store.read(), args.year, Path(args.out), Path(args.xlsx) if args.xlsx else None)
    except BilanFilterError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 2
    print(f"Rapport écrit : {args.out}" + (f" et {args.xlsx}" if args.xlsx else ""))
    return 0


def cmd_add_user(args) -> int:
    from .services.kernel.users import add_user

    row = add_user(_store(), args.email, args.role, args.scope or "", args.name or "")
    print(f"Utilisateur {row['email']} ajouté ({row['role']}).")
    return 0


def cmd_set_password(args) -> int:
    import getpass

    from .config import accounts_path
    from .services.kernel.accounts import local_accounts
    from .services.kernel.users import UnknownUser, find_user

    settings = load_settings()
    try:
        find_user(_store().read(tabs=["Utilisateurs"]), args.email)
    except UnknownUser as error:
        print(str(error), file=sys.stderr)
        return 1
    password = sys.stdin.readline().rstrip("\n") if args.stdin else getpass.getpass("Mot de passe : ")
    if not args.stdin and getpass.getpass("Le même, encore : ") != password:
        print("Les deux saisies diffèrent : rien n'a été enregistré.", file=sys.stderr)
        return 1
    try:
        local_accounts(settings).set_password(args.email, password)
    except ValueError as error:
        print(str(error), file=sys.stderr)
        return 1
    print(f"Mot de passe enregistré pour {args.email.strip().lower()} (empreinte scrypt salée) dans "
          f"{accounts_path(settings)}.")
    return 0


def cmd_doctor(args) -> int:
    from .doctor import doctor, passed, report_text

    checks = doctor(smtp=not args.sans_smtp)
    print(report_text(checks))
    return 0 if passed(checks) else 1


def cmd_ready(args) -> int:
    from .doctor import passed, ready

    checks = ready(args.http or "")
    failed = [c for c in checks if c.blocking and not c.ok]
    print("prêt" if not failed else "pas prêt : " + " ; ".join(f"{c.name} : {c.detail}" for c in failed))
    return 0 if passed(checks) else 1


def cmd_remind(args) -> int:
    """Due reminders by email (cron or a systemd timer): each step and side at most once."""
    from .mail import configured_mailer
    from .services.kernel.access import SYSTEM_USER
    from .services.links import reminders

    settings = load_settings()
    store = build_store(settings)
    snapshot = store.read()
    if args.dry_run:
        due = reminders.due_reminders(snapshot, date.today())
        for item in due:
            print(f"  à relancer : {item.meeting_id} — {item.purpose}, côté {item.side}")
        print(f"{len(due)} relance(s) due(s) (rien n'a été envoyé).")
        return 0
    report = reminders.send_due(store, snapshot, SYSTEM_USER, settings.links, configured_mailer(settings))
    for line in report.sent:
        print(f"  {line}")
    for line in report.failed:
        print(f"  échec : {line}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed else 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m ecole_entreprise",
                                   description="Rencontres École–Entreprise BFC : outils en ligne de commande.")
    sub = main.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="crée les onglets manquants et signale les écarts au schéma").set_defaults(run=cmd_init)
    demo = sub.add_parser("demo", help="charge un jeu de données fictif")
    demo.add_argument("--force", action="store_true", help="charger même si des données existent")
    demo.set_defaults(run=cmd_demo)
    check = sub.add_parser("check", help="contrôle qualité de tous les onglets et du journal")
    check.add_argument("--sheet", action="store_true", help="réécrit aussi l'onglet « À corriger » de la feuille")
    check.set_defaults(run=cmd_check)
    key = sub.add_parser("journal-key", help="crée la clé qui signe le journal et dit où la garder")
    key.add_argument("--force", action="store_true", help="en créer une même si une clé est configurée")
    key.set_defaults(run=cmd_journal_key)
    imp = sub.add_parser("import", help="importe un fichier CSV ou xlsx dans un onglet")
    imp.add_argument("tab", choices=["Entreprises", "Personnels"])
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="valider sans rien écrire")
    imp.add_argument("--liste-tierce", action="store_true",
                     help="liste fournie par un tiers : date limite d'information des personnes à un mois")
    imp.add_argument("--canal", help="Personnels : canal de recrutement des lignes qui n'en donnent pas")
    imp.add_argument("--fonction", help="Personnels : fonction des lignes qui n'en donnent pas")
    imp.set_defaults(run=cmd_import)
    purge = sub.add_parser("purge", help="anonymise les inactifs et purge le journal ancien (RGPD)")
    purge.add_argument("--dry-run", action="store_true", help="lister sans rien modifier")
    purge.set_defaults(run=cmd_purge)
    report = sub.add_parser("report", help="génère le bilan PDF (et xlsx) pour le comité de pilotage")
    report.add_argument("--year", required=True, help="année scolaire, par exemple 2025-2026")
    report.add_argument("--out", required=True, help="chemin du PDF")
    report.add_argument("--xlsx", help="chemin du classeur des tableaux agrégés")
    report.set_defaults(run=cmd_report)
    user = sub.add_parser("add-user", help="autorise un utilisateur (email, rôle, périmètre)")
    user.add_argument("email")
    user.add_argument("role", help="admin, « coordinateur académie », « coordinateur CPME », « comité de pilotage »")
    user.add_argument("--scope", help="académie ou départements, par exemple « Dijon » ou « 25,39 »")
    user.add_argument("--name")
    user.set_defaults(run=cmd_add_user)
    password = sub.add_parser("set-password", help="mode local : crée ou change le mot de passe d'un utilisateur")
    password.add_argument("email")
    password.add_argument("--stdin", action="store_true", help="lire le mot de passe sur l'entrée standard")
    password.set_defaults(run=cmd_set_password)
    doc = sub.add_parser("doctor", help="vérifie l'installation : configuration, secrets, stockage, schéma, journal…")
    doc.add_argument("--sans-smtp", action="store_true", help="ne pas tenter de joindre le serveur SMTP")
    doc.set_defaults(run=cmd_doctor)
    ready = sub.add_parser("ready", help="contrôle rapide pour la supervision (HEALTHCHECK) : code 0 si prêt")
    ready.add_argument("--http", help="URL à interroger aussi, par exemple http://127.0.0.1:8501/_stcore/health")
    ready.set_defaults(run=cmd_ready)
    remind = sub.add_parser("remind", help="envoie les relances dues (réponse, attendus, conclusions) par courriel")
    remind.add_argument("--dry-run", action="store_true", help="lister les relances dues sans rien envoyer")
    remind.set_defaults(run=cmd_remind)
    return main


def main(argv=None) -> int:
    from . import logs

    args = parser().parse_args(argv)
    try:
        logs.configure(load_settings())
    except (ValueError, OSError):
        logs.configure()  # unreadable settings: `doctor` says why; the log still works
    try:
        return args.run(args)
    except StoreError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 2

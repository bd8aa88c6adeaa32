"""Command line: `python -m ecole_entreprise COMMAND`. Thin: parses arguments, calls services, prints French text."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from .config import load_settings
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
    from .services.kernel.journal import entry_hash, verify_chain
    from .services.kernel.workbook_recovery import check_lines

    links, altered = [], set()  # the Journal's entries, lean; the row numbers of those whose content changed

    def keep_links(data) -> None:
        for row in data.rows:
            links.append(_ChainLink(row.id, row.row_number, row["hash"], row["hash_precedent"]))
            if entry_hash(row["hash_precedent"], row.values) != row["hash"]:
                altered.add(row.row_number)

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
    chain = verify_chain(links, intact=lambda row: row.row_number not in altered)
    links.clear()  # before the workbook is read again below
    print(f"{count} anomalie(s) dans les données.")
    print("Journal : " + chain.message_fr)
    store = _store()
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
    return 1 if count or not chain.ok or erased else 0


class _ChainLink:
    """What verify_chain reads of a Journal entry once `check` has compared its content with its hash: a few dozen
    bytes and two hashes per entry, where a whole row holds every cell."""

    __slots__ = ("id", "row_number", "hash", "hash_precedent")

    def __init__(self, row_id: str, row_number: int, hash_: str, hash_precedent: str):
        self.id, self.row_number, self.hash, self.hash_precedent = row_id, row_number, hash_, hash_precedent

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
    from .services.privacy.retention import purge

    report = purge(_store(), date.today(), dry_run=args.dry_run)
    print(report.summary_fr())
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
    doc = sub.add_parser("doctor", help="vérifie l'installation : configuration, secrets, stockage, schéma, journal…")
    doc.add_argument("--sans-smtp", action="store_true", help="ne pas tenter de joindre le serveur SMTP")
    doc.set_defaults(run=cmd_doctor)
    ready = sub.add_parser("ready", help="contrôle rapide pour la supervision (HEALTHCHECK) : code 0 si prêt")
    ready.add_argument("--http", help="URL à interroger aussi, par exemple http://127.0.0.1:8501/_stcore/health")
    ready.set_defaults(run=cmd_ready)
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

"""Entry point: page config, identity → role → the pages this role may open (pages/_shell.py)."""

from pages._shell import run_app

run_app()

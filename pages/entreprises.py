from pages._census import render
from pages._context import page_context

render("Entreprises", page_context("entreprises"))

from pages._census import render
from pages._context import page_context

render("Personnels", page_context("personnels"))

from pages._census import render
from pages._shell import page_user

render("Entreprises", page_user("entreprises"))

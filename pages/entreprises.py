from ecole_entreprise.services.kernel import access
from pages._census import render
from pages._shell import page_user

render("Entreprises", page_user(access.VIEW_PERSON_LISTS))

from pages._census import render
from pages._shell import current_user

render("Personnels", current_user())

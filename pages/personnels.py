from pages._census import render
from pages._shell import page_user

render("Personnels", page_user("personnels"))

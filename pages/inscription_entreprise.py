"""Public page: a company volunteers to invite Éducation nationale staff (no login; checked by a coordinator)."""

from pages._census import render_registration

render_registration(
    "Entreprises", "Inscription entreprise",
    "Chef d'entreprise en Bourgogne-Franche-Comté, vous souhaitez accueillir un personnel de l'Éducation nationale "
    "(professeur, chef d'établissement, psychologue de l'Éducation nationale…) ? Présentez votre entreprise : un "
    "coordinateur de la CPME vérifiera votre inscription puis vous contactera. Les champs marqués * sont "
    "obligatoires.",
)

"""Public page: Éducation nationale staff volunteer to meet a company (no login; checked by a coordinator)."""

from pages._census import render_registration

render_registration(
    "Personnels", "Inscription personnel de l'Éducation nationale",
    "Professeur, chef d'établissement, CPE, PSY-EN… dans l'académie de Dijon ou de Besançon, vous souhaitez "
    "rencontrer un chef d'entreprise de votre territoire ? Inscrivez-vous : un coordinateur académique vérifiera "
    "votre inscription puis vous contactera. Utilisez votre adresse professionnelle. Les champs marqués * sont "
    "obligatoires.",
)

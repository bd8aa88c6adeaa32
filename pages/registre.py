"""Processing register (GDPR art. 30), generated from the settings."""

import streamlit as st

from ecole_entreprise.services.privacy.documents import parameters, processing_register
from pages._context import page_context
from pages._plain import plain_values

ctx = page_context("registre")
settings = parameters(ctx.snapshot())
register = processing_register(settings)
st.title("Registre des activités de traitement")
st.caption("Article 30 du RGPD — fiche générée à partir de l'onglet Parametres.")
st.download_button("Télécharger (Markdown)", register.encode("utf-8"), file_name="registre-traitements.md",
                   mime="text/markdown")
st.markdown(processing_register(plain_values(settings)))

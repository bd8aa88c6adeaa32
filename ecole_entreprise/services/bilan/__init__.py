"""The Bilan: aggregate tables, charts and the PDF/xlsx report."""

"""The census of companies and staff: records, imports, self-registration, data quality, demo data."""

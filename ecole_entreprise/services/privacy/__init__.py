"""GDPR: consents, contact disclosure, data subject rights, retention, notice and register."""

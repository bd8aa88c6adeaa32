"""Meetings and what follows them: lifecycle, calendar, introductions, partnerships and events."""

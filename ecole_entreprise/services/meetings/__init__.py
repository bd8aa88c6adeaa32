"""Meetings and what follows them: lifecycle, calendar, introductions, partnerships and events, and the same
action on several meetings at once (bulk)."""

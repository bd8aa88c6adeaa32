"""The home page's work list (« À faire »)."""

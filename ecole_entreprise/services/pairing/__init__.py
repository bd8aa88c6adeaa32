"""Pairing companies with staff: explainable scores and the global optimal plan."""

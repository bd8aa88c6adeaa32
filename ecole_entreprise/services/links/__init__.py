"""Signed personal links: participants answer, prepare, conclude and reply to invitations without an account."""

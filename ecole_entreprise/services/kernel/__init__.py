"""What every capability shares: access rules, the journal, parameters, accounts, formatting."""

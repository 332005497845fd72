"""The account service: accounts and the double-entry ledger (issue 5)."""

"""``python -m paymesh.services.account`` runs the account service."""

from __future__ import annotations

from paymesh.services.account.server import main

if __name__ == "__main__":
    main()

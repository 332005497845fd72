"""``python -m paymesh.services.reconciliation`` runs the reconciliation service."""

from __future__ import annotations

from paymesh.services.reconciliation.server import main

if __name__ == "__main__":
    main()

"""``python -m paymesh.services.merchant`` runs the merchant service."""

from __future__ import annotations

from paymesh.services.merchant.server import main

if __name__ == "__main__":
    main()

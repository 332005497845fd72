"""``python -m paymesh.services.tracestore`` runs the local trace store."""

from __future__ import annotations

from paymesh.services.tracestore.server import main

if __name__ == "__main__":
    main()

"""The reconciliation service (对账): batches, matching, mistakes and their handling."""

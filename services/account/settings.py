"""The account service's own settings, read once from the environment into a frozen object.

=========================  ======================================================================
PAYMESH_SETTLEMENT_DAYS    N of T+N for merchants without settlement terms of their own, 0..30;
                           1 (a day's pending funds become available the next day)
=========================  ======================================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from paymesh.services.common.config import ConfigError

MAX_SETTLE_DAYS = 30


@dataclass(frozen=True)
class AccountSettings:
    """Defaults of the ledger's business rules."""

    default_settle_days: int = 1

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AccountSettings:
        """Reads PAYMESH_SETTLEMENT_DAYS; a malformed value raises ConfigError naming it."""
        env = os.environ if env is None else env
        raw = env.get("PAYMESH_SETTLEMENT_DAYS", "").strip()
        if not raw:
            return cls()
        if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_SETTLE_DAYS:
            raise ConfigError(f"PAYMESH_SETTLEMENT_DAYS must be a whole number of days, 0 to "
                              f"{MAX_SETTLE_DAYS}, got {raw!r}")
        return cls(default_settle_days=int(raw))

"""The jobs process's settings, read once from the environment into a frozen object.

=================================  ==========================================================
PAYMESH_JOBS_SWEEP_PAYING_INTERVAL  seconds between sweeps of orders still paying; 5
PAYMESH_JOBS_PAYING_AGE             an order is queried once it has been paying this many
                                    seconds (barcode orders from 5 s regardless); 60
PAYMESH_JOBS_EXPIRE_INTERVAL        seconds between runs expiring orders; 30
PAYMESH_JOBS_REFUND_INTERVAL        seconds between sweeps of pending refunds; 60
PAYMESH_JOBS_NOTIFY_INTERVAL        seconds between deliveries of due merchant notifications; 5
PAYMESH_JOBS_BATCH                  at most this many orders per run, 1 to 1000; 200
PAYMESH_JOBS_RUN_TIMEOUT            seconds one run may take (its RPC deadline); the leader
                                    lock is held at most a little longer; 120
=================================  ==========================================================

Intervals are seconds, fractions allowed (tests run them every second). The rest of the mesh's
variables (gateway address, shared state, data directory) come from MeshConfig.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from paymesh.services.common.config import ConfigError


@dataclass(frozen=True)
class JobsConfig:
    """How often each job runs and how much one run may do."""

    sweep_paying_interval: float = 5.0
    paying_age_seconds: int = 60
    expire_interval: float = 30.0
    refund_interval: float = 60.0
    notify_interval: float = 5.0
    batch: int = 200
    run_timeout: float = 120.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> JobsConfig:
        """Reads PAYMESH_JOBS_*; a malformed value raises ConfigError naming the variable."""
        env = os.environ if env is None else env
        defaults = cls()
        age = _number(env, "PAYMESH_JOBS_PAYING_AGE", defaults.paying_age_seconds)
        batch = _number(env, "PAYMESH_JOBS_BATCH", defaults.batch)
        if age != int(age) or not 1 <= age <= 86_400:
            raise ConfigError(f"PAYMESH_JOBS_PAYING_AGE must be whole seconds, 1 to 86400, "
                              f"got {age}")
        if batch != int(batch) or not 1 <= batch <= 1000:
            raise ConfigError(f"PAYMESH_JOBS_BATCH must be a whole number, 1 to 1000, got {batch}")
        return cls(
            sweep_paying_interval=_seconds(env, "PAYMESH_JOBS_SWEEP_PAYING_INTERVAL",
                                           defaults.sweep_paying_interval),
            paying_age_seconds=int(age),
            expire_interval=_seconds(env, "PAYMESH_JOBS_EXPIRE_INTERVAL",
                                     defaults.expire_interval),
            refund_interval=_seconds(env, "PAYMESH_JOBS_REFUND_INTERVAL",
                                     defaults.refund_interval),
            notify_interval=_seconds(env, "PAYMESH_JOBS_NOTIFY_INTERVAL",
                                     defaults.notify_interval),
            batch=int(batch),
            run_timeout=_seconds(env, "PAYMESH_JOBS_RUN_TIMEOUT", defaults.run_timeout),
        )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {raw!r}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = _number(env, name, default)
    if not 0.05 <= value <= 86_400:
        raise ConfigError(f"{name} must be 0.05 to 86400 seconds, got {value}")
    return value

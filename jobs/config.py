"""The jobs process's settings, read once from the environment into a frozen object.

=================================  ==========================================================
PAYMESH_JOBS_SWEEP_PAYING_INTERVAL  seconds between sweeps of orders still paying; 5
PAYMESH_JOBS_PAYING_AGE             an order is queried once it has been paying this many
                                    seconds (barcode orders from 5 s regardless); 60
PAYMESH_JOBS_EXPIRE_INTERVAL        seconds between runs expiring orders; 30
PAYMESH_JOBS_REFUND_INTERVAL        seconds between sweeps of pending refunds; 60
PAYMESH_JOBS_REFUND_STUCK_AGE       a refund still created (state 0) this many seconds after
                                    it was asked for lost its request: the refund sweep
                                    resumes it (holds its money, asks the channel); 60
PAYMESH_JOBS_NOTIFY_INTERVAL        seconds between deliveries of due merchant notifications; 5
PAYMESH_JOBS_SETTLE_INTERVAL        seconds between settlement runs (T+N: the account
                                    service's SettleDue); 3600
PAYMESH_SETTLEMENT_GATE             what releases a day to settlement: "reconciliation"
                                    (default) once the reconciliation service has finished
                                    it for every active channel config, holding merchants
                                    with open mistakes; "none" counts every day before
                                    today (UTC+8) as reconciled (channels without bills)
PAYMESH_JOBS_RECONCILE_AT           "HH:MM" in China Standard Time (UTC+8) from which each day
                                    the reconcile job runs yesterday's batch of every active
                                    channel config; "now" lifts the time of day (every tick
                                    runs it: tests, catching up); 10:00
PAYMESH_JOBS_RECONCILE_INTERVAL     seconds between the reconcile job's ticks (a batch that
                                    finished is only looked at again); 60
PAYMESH_JOBS_RECONCILE_RETRY        seconds before a batch that ended ERROR or FAIL (bill not
                                    ready, download failed) is run again, until the day
                                    ends; 600
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
    settle_interval: float = 3600.0
    settlement_gate: str = "reconciliation"
    reconcile_at: str = "10:00"
    reconcile_interval: float = 60.0
    reconcile_retry: float = 600.0
    refund_stuck_age_seconds: int = 60

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> JobsConfig:
        """Reads PAYMESH_JOBS_*; a malformed value raises ConfigError naming the variable."""
        env = os.environ if env is None else env
        defaults = cls()
        age = _whole_seconds(env, "PAYMESH_JOBS_PAYING_AGE", defaults.paying_age_seconds)
        stuck = _whole_seconds(env, "PAYMESH_JOBS_REFUND_STUCK_AGE",
                               defaults.refund_stuck_age_seconds)
        batch = _number(env, "PAYMESH_JOBS_BATCH", defaults.batch)
        if batch != int(batch) or not 1 <= batch <= 1000:
            raise ConfigError(f"PAYMESH_JOBS_BATCH must be a whole number, 1 to 1000, got {batch}")
        return cls(
            sweep_paying_interval=_seconds(env, "PAYMESH_JOBS_SWEEP_PAYING_INTERVAL",
                                           defaults.sweep_paying_interval),
            paying_age_seconds=age,
            expire_interval=_seconds(env, "PAYMESH_JOBS_EXPIRE_INTERVAL",
                                     defaults.expire_interval),
            refund_interval=_seconds(env, "PAYMESH_JOBS_REFUND_INTERVAL",
                                     defaults.refund_interval),
            notify_interval=_seconds(env, "PAYMESH_JOBS_NOTIFY_INTERVAL",
                                     defaults.notify_interval),
            batch=int(batch),
            run_timeout=_seconds(env, "PAYMESH_JOBS_RUN_TIMEOUT", defaults.run_timeout),
            settle_interval=_seconds(env, "PAYMESH_JOBS_SETTLE_INTERVAL",
                                     defaults.settle_interval),
            settlement_gate=_choice(env, "PAYMESH_SETTLEMENT_GATE", defaults.settlement_gate,
                                    ("reconciliation", "none")),
            reconcile_at=_time_of_day(env, "PAYMESH_JOBS_RECONCILE_AT", defaults.reconcile_at),
            reconcile_interval=_seconds(env, "PAYMESH_JOBS_RECONCILE_INTERVAL",
                                        defaults.reconcile_interval),
            reconcile_retry=_seconds(env, "PAYMESH_JOBS_RECONCILE_RETRY",
                                     defaults.reconcile_retry),
            refund_stuck_age_seconds=stuck,
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


def _whole_seconds(env: Mapping[str, str], name: str, default: int) -> int:
    """Whole seconds, 1 to 86400."""
    value = _number(env, name, default)
    if value != int(value) or not 1 <= value <= 86_400:
        raise ConfigError(f"{name} must be whole seconds, 1 to 86400, got {value}")
    return int(value)


def _time_of_day(env: Mapping[str, str], name: str, default: str) -> str:
    """ "HH:MM" (24-hour) or "now"."""
    raw = env.get(name, "").strip().lower() or default
    hours, _, minutes = raw.partition(":")
    if raw == "now" or (len(hours) == 2 and len(minutes) == 2 and hours.isdigit()
                        and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        return raw
    raise ConfigError(f'{name} must be a time HH:MM (UTC+8) or "now", got {raw!r}')


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = _number(env, name, default)
    if not 0.05 <= value <= 86_400:
        raise ConfigError(f"{name} must be 0.05 to 86400 seconds, got {value}")
    return value

"""Drills: load with a full audit, crashes and faults, each one command that prints a verdict.

``paymesh drill load`` drives signed unified orders, sandbox payments (which trigger the channel's
signed callback), queries, closes and refunds through the real Envoy at a fixed arrival rate in
stages, then audits every order the client saw against the gateway's records, the ledger and
the notifications the merchant endpoint received. ``paymesh drill crash`` does the same while it
``kill -9``s each process of the mesh in turn (the supervisor starts it again), and ``paymesh
drill fault --scenario NAME`` while a channel times out, answers 5xx or answers slowly, the
merchant's endpoint is down, or MariaDB or Redis restarts. docs/reliability.md has the
hypotheses and the figures.

Modules: ``target`` (the mesh under drill: one of its own, or a running one), ``tenant`` (a fresh
merchant per run, so the audit owns every order and every fen of its balances), ``endpoint`` (the
merchant's notification endpoint), ``client`` (signed calls with retries of unknown outcomes),
``workload`` (the open-model load and the client's book), ``load`` (one run: load, quiescence,
audit), ``audit``, ``report``, ``crash``, and ``faults`` with its ``scenario`` framework,
``channel_faults`` (with ``proxy``, a fault-injecting HTTP proxy in front of a channel simulator)
and ``outages`` (with ``servers``, throw-away MariaDB and Redis servers a drill may restart).
"""

# What the command line needs before it imports the drills themselves (kept light: every
# ``paymesh`` command builds the whole parser).
# Processes a drill may kill, in the order the crash drill kills them. The gateway goes first: a
# merchant notification it was sending when it died is sent again when its 60 s lease ends, the
# longest wait of the drill.
PROCESSES = ("gateway", "merchant", "channel", "account", "reconciliation", "jobs", "envoy")
# The fault drill's scenarios (drills/faults.py).
SCENARIO_NAMES = ("channel-timeout", "channel-5xx", "channel-slow", "merchant-down",
                  "mariadb-restart", "redis-restart")
# Seconds a killed process may take to be back and healthy (drills/crash.py).
RECOVERY_BOUND = 30.0

"""``paymesh drill``: load with a full audit, crash drills and fault drills, each with a verdict.

    paymesh drill load [--stages 20:30,40:30]        signed journeys through Envoy, then the audit
    paymesh drill crash [--short]                    the load while each process is kill -9'd
    paymesh drill fault --scenario NAME              the load while a channel, the merchant's
                                                     endpoint, MariaDB or Redis misbehaves

Each starts a mesh of its own (``paymesh up --demo`` in a temporary directory, on the backend of
PAYMESH_DB_URL / PAYMESH_SHARED_STATE_URL) unless ``--data-dir`` names a running one, prints its
figures, the audit table and a verdict, and exits 1 when the verdict is FAIL. The logic lives in
services/drills; docs/reliability.md has the hypotheses and the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paymesh.services.drills import PROCESSES, RECOVERY_BOUND, SCENARIO_NAMES

if TYPE_CHECKING:
    from paymesh.services.drills.target import Target

# The drills themselves are imported when one runs: every ``paymesh`` command builds this parser.


def register(commands: Any) -> None:
    drill = commands.add_parser("drill", help="load, crash and fault drills with an audit")
    kinds = drill.add_subparsers(dest="drill", required=True, metavar="DRILL")

    load = kinds.add_parser("load", help="staged load through Envoy, then the full audit")
    _common(load, "20:30,40:30")
    load.set_defaults(run=run_load_drill)

    kill = kinds.add_parser("crash", help="the load while every process is kill -9'd in turn")
    _common(kill, None)
    kill.add_argument("--short", action="store_true",
                      help="a few seconds per process at a low rate (the CI drill)")
    kill.add_argument("--rate", type=float, default=None,
                      help="journeys per second during the drill (default 10; --short: 4)")
    kill.add_argument("--per-victim", type=float, default=None,
                      help="seconds of load around each kill (default 15; --short: 4)")
    kill.add_argument("--victims", default=",".join(PROCESSES),
                      help=f"processes to kill, in order (default {','.join(PROCESSES)})")
    kill.add_argument("--recover", type=float, default=RECOVERY_BOUND,
                      help="seconds a killed process may take to be back and healthy "
                           f"(default {RECOVERY_BOUND:g})")
    kill.set_defaults(run=run_crash_drill)

    fault = kinds.add_parser("fault", help="the load while one part of the world misbehaves")
    _common(fault, None)
    fault.add_argument("--scenario", required=True, choices=SCENARIO_NAMES,
                       help="what goes wrong (docs/reliability.md states each hypothesis)")
    fault.add_argument("--rate", type=float, default=None,
                       help="journeys per second (default: the scenario's)")
    fault.add_argument("--outage", type=float, default=None,
                       help="seconds the fault lasts (default: the scenario's)")
    fault.add_argument("--allow-db-restart", action="store_true",
                       help="mariadb-restart / redis-restart: allow the drill to restart the "
                            "database server (see --restart-command)")
    fault.add_argument("--restart-command", default=None,
                       help="restart the backend's server with this shell command (e.g. "
                            "'service mariadb restart') instead of throw-away servers the "
                            "drill starts for itself")
    fault.set_defaults(run=run_fault_drill)


def _common(parser: argparse.ArgumentParser, stages: str | None) -> None:
    parser.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help="drill the mesh running on this data directory instead of one "
                             "of its own")
    if stages is not None:
        parser.add_argument("--stages", default=stages,
                            help=f"RATE:SECONDS,... journeys per second per stage "
                                 f"(default {stages})")
    parser.add_argument("--quiesce", type=float, default=60.0,
                        help="seconds the audit may take to become clean after the load "
                             "(default 60)")
    parser.add_argument("--retry-for", type=float, default=30.0,
                        help="seconds a call with an unknown outcome is retried (default 30)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the journeys' mix")


def _target(args: argparse.Namespace, **own: Any) -> Target:
    from paymesh.services.drills.target import attach, start_own

    if getattr(args, "data_dir", None):
        return attach(Path(args.data_dir))
    return start_own(**own)


def run_load_drill(args: argparse.Namespace) -> None:
    from paymesh.services.drills.load import LoadOptions, run_load
    from paymesh.services.drills.report import (
        anomalies,
        audit_table,
        header,
        load_figures,
        printer,
        verdict,
    )
    from paymesh.services.drills.target import TargetError
    from paymesh.services.drills.workload import parse_stages

    try:
        stages = parse_stages(args.stages)
    except ValueError as error:
        sys.exit(f"paymesh drill load: {error}")
    options = LoadOptions(stages, quiesce=args.quiesce, seed=args.seed,
                          retry_for=args.retry_for)
    emit = printer(sys.stdout)
    try:
        target = _target(args)
    except TargetError as error:
        sys.exit(f"paymesh drill load: {error}")
    try:
        header(emit, "load", target, f"stages {args.stages}")
        result = asyncio.run(run_load(target, options))
        load_figures(emit, result)
        audit_table(emit, result)
        count = anomalies(result)
        verdict(emit, result.passed, [f"{count} anomal{'y' if count == 1 else 'ies'}"])
    except BaseException:
        _stop(target, False, emit)
        raise
    _stop(target, result.passed, emit)
    sys.exit(0 if result.passed else 1)


def run_crash_drill(args: argparse.Namespace) -> None:
    from paymesh.services.drills import crash
    from paymesh.services.drills.load import LoadOptions
    from paymesh.services.drills.report import printer
    from paymesh.services.drills.target import TargetError

    victims = [v.strip() for v in args.victims.split(",") if v.strip()]
    unknown = sorted(set(victims) - set(PROCESSES))
    if unknown or not victims:
        sys.exit(f"paymesh drill crash: unknown process {', '.join(unknown) or '(none)'}; "
                 f"known: {', '.join(PROCESSES)}")
    plan = crash.CrashPlan.of(victims, short=args.short, rate=args.rate,
                              per_victim=args.per_victim, recover=args.recover)
    options = LoadOptions([], quiesce=args.quiesce, seed=args.seed, retry_for=args.retry_for)
    try:
        target = _target(args)
    except TargetError as error:
        sys.exit(f"paymesh drill crash: {error}")
    emit = printer(sys.stdout)
    try:
        passed = crash.run(target, plan, options, emit)
    except BaseException:
        _stop(target, False, emit)
        raise
    _stop(target, passed, emit)
    sys.exit(0 if passed else 1)


def run_fault_drill(args: argparse.Namespace) -> None:
    from paymesh.services.drills import faults
    from paymesh.services.drills.load import LoadOptions
    from paymesh.services.drills.report import printer
    from paymesh.services.drills.target import TargetError

    scenario = faults.SCENARIOS[args.scenario]
    emit = printer(sys.stdout)
    refusal = scenario.refusal(args)
    if refusal:
        emit(f"paymesh drill fault {args.scenario}: SKIPPED: {refusal}")
        sys.exit(0)
    options = LoadOptions([], quiesce=args.quiesce, seed=args.seed, retry_for=args.retry_for)
    with scenario.environment(args) as extra_env:
        try:
            target = _target(args, extra_env=extra_env)
        except TargetError as error:
            sys.exit(f"paymesh drill fault: {error}")
        try:
            passed = faults.run(scenario, target, options, args, emit)
        except BaseException:
            _stop(target, False, emit)
            raise
        _stop(target, passed, emit)
    sys.exit(0 if passed else 1)


def _stop(target: Target, passed: bool, emit: Any) -> None:
    """Stops an own mesh; after a FAIL its data directory (logs) is kept and named."""
    target.stop(keep=not passed)
    if target.owned and not passed and target.scratch is not None:
        emit(f"the mesh's logs and data are kept in {target.scratch}")

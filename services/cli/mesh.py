"""``paymesh up`` and ``paymesh migrate``."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from paymesh.services.common.config import MeshConfig
from paymesh.services.mesh.demo import ensure_demo, wire_simulators
from paymesh.services.mesh.supervisor import Mesh, MeshError, migrate_all, prepare_data_dir


def register(commands: Any) -> None:
    up = commands.add_parser("up", help="start the whole mesh and wait until it is healthy")
    up.add_argument("--data-dir", default=argparse.SUPPRESS, help="data directory")
    up.add_argument("--demo", action="store_true",
                    help="also create a demo merchant with sandbox passages (DIR/demo.json)")
    up.add_argument("--simulate-channels", action="store_true",
                    help="also run local WeChat Pay, Alipay and UnionPay simulators; with --demo, "
                         "the demo app pays through them (DIR/simulators.json)")
    up.set_defaults(run=run_up)
    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("--data-dir", default=argparse.SUPPRESS, help="data directory")
    migrate.set_defaults(run=run_migrate)


def run_migrate(args: argparse.Namespace) -> None:
    config = MeshConfig.from_env()
    prepare_data_dir(config.data_dir)
    migrate_all(MeshConfig.from_env())
    print("migrations applied")


def run_up(args: argparse.Namespace) -> None:
    prepare_data_dir(MeshConfig.from_env().data_dir)
    config = MeshConfig.from_env()  # now with the master key and admin token files
    migrate_all(config)
    mesh = Mesh(config)
    try:
        code = asyncio.run(_serve(mesh, demo=args.demo, simulate=args.simulate_channels))
    finally:
        mesh.stop()
    sys.exit(code)


async def _serve(mesh: Mesh, *, demo: bool, simulate: bool = False) -> int:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        if simulate:
            mesh.start_simulators()
        await mesh.start_all()
    except MeshError as error:
        print(f"paymesh: {error}", file=sys.stderr)
        return 1
    mesh.write_description()
    print(f"paymesh is up. REST edge: {mesh.config.public_url}", flush=True)
    print(f"  data directory: {mesh.config.data_dir}  (logs in logs/)", flush=True)
    for sim in mesh.simulators:
        print(f"  {sim.if_code} simulator: {sim.base_url}", flush=True)
    if demo:
        info = await ensure_demo(mesh.config)
        if mesh.simulators:
            await wire_simulators(mesh.config, info["appId"], mesh.simulators)
        print(f"  demo merchant {info['mchNo']}, app {info['appId']}: "
              f"{mesh.config.data_dir / 'demo.json'}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    while not stopping.is_set():
        child = mesh.supervise()  # restarts crashed services; None unless it gave up
        if child is not None:
            print(f"paymesh: {child.name} exited with code {child.process.returncode}; "
                  f"stopping (see {child.log})", file=sys.stderr)
            return 1
        try:
            await asyncio.wait_for(stopping.wait(), timeout=0.25)
        except TimeoutError:
            pass
    print("stopping...", flush=True)
    return 0

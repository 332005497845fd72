"""``paymesh``: run the mesh and operate it.

    paymesh up [--data-dir DIR] [--demo]     start every service and Envoy, wait until healthy
    paymesh migrate [--data-dir DIR]         apply database migrations
    paymesh merchant|app|channel-config|passage ...   operator commands (JSON output)
    paymesh order get PAY_ORDER_ID           one pay order as the gateway keeps it
    paymesh notify list|get|resend ...       merchant notifications and their attempts
    paymesh ledger check                     audit the ledger; exit 1 when an invariant breaks
    paymesh ledger balances|entries|statement|status|freeze|unfreeze|withdraw|adjust|terms|settle
                                             the ledger's operator commands (cli/account.py)
    paymesh recon run|batches|batch|summary|mistakes|handle ...   reconciliation (对账)
    paymesh trace ORDER_OR_TRACE_ID|--slow|--errors   a payment's span tree, or recent traces
    paymesh drill load|crash|fault ...       drills with an audit and a verdict
"""

from __future__ import annotations

import argparse
import os
import sys

import grpc
import sqlalchemy.exc

from paymesh.services.common.config import ConfigError


def build_parser() -> argparse.ArgumentParser:
    from paymesh.services.cli import admin, drill, ledger, mesh, notify, orders, recon, trace

    parser = argparse.ArgumentParser(prog="paymesh", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir",
                        help="data directory (default: $PAYMESH_DATA_DIR or .paymesh)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    mesh.register(commands)
    admin.register(commands)
    orders.register(commands)
    notify.register(commands)
    ledger.register(commands)
    recon.register(commands)
    trace.register(commands)
    drill.register(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data_dir:
        os.environ["PAYMESH_DATA_DIR"] = args.data_dir
    try:
        args.run(args)
    except ConfigError as error:
        sys.exit(f"paymesh: configuration: {error}")
    except sqlalchemy.exc.OperationalError as error:
        sys.exit(f"paymesh: database: {error.orig or error}")
    except grpc.RpcError as error:
        code = error.code().name if hasattr(error, "code") else "ERROR"
        details = error.details() if hasattr(error, "details") else str(error)
        sys.exit(f"paymesh: {code}: {details}")
    except KeyboardInterrupt:
        sys.exit(130)

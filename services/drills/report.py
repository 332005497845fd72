"""How a drill prints its figures, its audit table and its verdict."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TextIO

from paymesh.services.drills.audit import KINDS, AuditResult
from paymesh.services.drills.client import Attempt, Stats
from paymesh.services.drills.load import LoadResult
from paymesh.services.drills.target import Target

Print = Callable[[str], None]


def printer(out: TextIO) -> Print:
    def emit(line: str) -> None:
        out.write(line + "\n")
        out.flush()
    return emit


def header(emit: Print, drill: str, target: Target, extra: str = "") -> None:
    where = ("its own mesh (paymesh up --demo in a temporary directory)" if target.owned
             else f"the mesh of {target.data_dir}")
    emit(f"paymesh drill {drill}: {where}, backend {target.backend}, {os.cpu_count()} cores"
         + (f", {extra}" if extra else ""))


def load_figures(emit: Print, result: LoadResult) -> None:
    """Stages, operations, errors."""
    emit(f"seed {result.seed}; {result.orders} orders, {result.refunds} refunds, "
         f"{result.notices} notifications received")
    emit("stages")
    emit(f"  {'stage':<6}{'target/s':>9}{'achieved/s':>12}{'journeys':>10}{'dropped':>9}"
         f"{'max lag ms':>12}")
    for number, stage in enumerate(result.stages, 1):
        emit(f"  {number:<6}{stage.rate:>9.1f}{stage.achieved:>12.1f}{stage.launched:>10}"
             f"{stage.dropped:>9}{stage.max_lag * 1000:>12.0f}")
    seconds = max(result.load_ended - result.began, 1e-9)
    emit(f"operations over the {seconds:.1f} s of load")
    emit(f"  {'operation':<15}{'ok':>7}{'ok/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
         f"{'retries':>9}{'refused':>9}{'unknown':>9}")
    total_ok = 0
    for op in result.stats.ops.values():
        ok = len(op.latencies)
        total_ok += ok
        p50, p99 = op.percentile(0.5), op.percentile(0.99)
        emit(f"  {op.name:<15}{ok:>7}{ok / seconds:>8.1f}{_ms(p50):>9}{_ms(p99):>9}"
             f"{sum(op.errors.values()):>8}{op.retries:>9}{op.refused:>9}{op.unknown:>9}")
    emit(f"  {'all':<15}{total_ok:>7}{total_ok / seconds:>8.1f}")
    kinds = [f"{op.name}: " + ", ".join(f"{kind} ×{n}" for kind, n in op.errors.most_common())
             for op in result.stats.ops.values() if op.errors]
    if kinds:
        emit("errors by kind (each was retried with the same merchant numbers)")
        for line in kinds:
            emit(f"  {line}")
    if result.left_running:
        emit(f"journeys still running when the drain gave up: {result.left_running}")
    if result.resolved:
        emit(f"unknown outcomes resolved by querying afterwards: {result.resolved}")


def audit_table(emit: Print, result: LoadResult) -> None:
    if result.quiesced_after is not None:
        emit(f"quiescence: the audit was clean {result.quiesced_after:.1f} s after the load "
             f"({result.audit_passes} audit pass{'es' if result.audit_passes > 1 else ''})")
        for line in result.waited_for[:3]:
            emit(f"  the first pass was still waiting for {line}")
    else:
        emit(f"quiescence: the audit was still not clean when the bound passed "
             f"({result.audit_passes} passes)")
    if result.audit_error:
        emit(f"the last audit could not read the platform: {result.audit_error}")
    audit = result.audit
    if audit is None:
        return
    emit("audit")
    emit(f"  {'item':<17}" + "".join(f"{kind:>11}" for kind in KINDS))
    for row in audit.rows:
        emit(f"  {row.name:<17}" + "".join(f"{row.counts[kind]:>11}" for kind in KINDS))
    for row in audit.rows:
        for example in row.examples:
            emit(f"    {row.name}: {example}")
    emit(f"  absent (no answer, and the platform never had it): {audit.absent}")
    emit(f"  notifications received more than once (allowed, at least once): "
         f"{audit.notices_repeated}")
    if audit.open_refunds:
        emit(f"  refunds still open at the end (0 created, 1 refunding; the refund sweep settles "
             f"or closes them): {len(audit.open_refunds)}: {', '.join(audit.open_refunds[:3])}")
    if audit.pay_notices_refunded:
        emit(f"  pay notifications made after the full refund, showing state 5 only: "
             f"{audit.pay_notices_refunded}")
    same = audit.balance_expected == audit.balance_ledger
    emit(f"  merchant balance: client's view {audit.balance_expected} fen, ledger "
         f"{audit.balance_ledger} fen: {'equal' if same else 'DIFFERENT'}")
    emit(f"  paymesh ledger check: {'sound' if audit.ledger_sound else 'NOT SOUND'}")
    for problem in audit.ledger_problems:
        emit(f"    {problem}")


def anomalies(result: LoadResult) -> int:
    audit: AuditResult | None = result.audit
    return (audit.anomalies if audit is not None else 1) + bool(result.audit_error) \
        + result.left_running


def verdict(emit: Print, passed: bool, reasons: list[str]) -> None:
    if passed:
        emit("verdict: PASS")
    else:
        emit("verdict: FAIL (" + "; ".join(reasons) + ")")


def error_window(attempts: list[Attempt], start: float, end: float
                 ) -> tuple[int, int, float | None, float | None]:
    """Attempts and failed attempts in [start, end], and the first and last failure's time."""
    inside = [a for a in attempts if start <= a.at <= end]
    failed = [a.at for a in inside if not a.ok]
    return (len(inside), len(failed), min(failed) if failed else None,
            max(failed) if failed else None)


def stats_rate(stats: Stats, start: float, end: float) -> float:
    """Definite answers per second in [start, end]."""
    if end <= start:
        return 0.0
    return sum(1 for a in stats.attempts if a.ok and start <= a.at <= end) / (end - start)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"

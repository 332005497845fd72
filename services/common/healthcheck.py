"""A health probe for containers: ``python -m paymesh.services.common.healthcheck TARGET``.

``TARGET`` is a gRPC address (``host:port``): the probe asks the standard gRPC health service
and exits 0 when it answers SERVING (the overall status, or ``--service NAME``'s), 1 otherwise.
``TARGET`` ``jobs`` checks the jobs process instead, which serves no gRPC: its heartbeat file in
PAYMESH_DATA_DIR must be fresh (written within the last ``--max-age`` seconds, 30 by default).
An ``http://`` URL (Envoy's admin ``/ready``) must answer 200.

docker-compose.yml uses it for every paymesh process and Envoy.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from paymesh.jobs.heartbeat import read_heartbeat
from paymesh.services.common.config import MeshConfig


async def grpc_serving(address: str, service: str = "", timeout: float = 3.0) -> bool:
    """Whether the gRPC server at ``address`` says ``service`` is SERVING."""
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            answer = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.aio.AioRpcError:
            return False
    return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)


def jobs_alive(max_age: float) -> bool:
    """Whether the jobs process of PAYMESH_DATA_DIR has beaten within ``max_age`` seconds."""
    beat = read_heartbeat(MeshConfig.from_env().data_dir)
    return beat is not None and time.time() - float(beat.get("time", 0)) <= max_age


def http_ready(url: str, timeout: float = 3.0) -> bool:
    """Whether ``url`` answers HTTP 200."""
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m paymesh.services.common.healthcheck",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("target", help="host:port of a gRPC service, 'jobs', or an http:// URL")
    parser.add_argument("--service", default="", help="gRPC service name to ask about")
    parser.add_argument("--max-age", type=float, default=30.0,
                        help="jobs: seconds the heartbeat may be old")
    args = parser.parse_args(argv)
    if args.target == "jobs":
        healthy = jobs_alive(args.max_age)
    elif args.target.startswith(("http://", "https://")):
        healthy = http_ready(args.target)
    else:
        healthy = asyncio.run(grpc_serving(args.target, args.service))
    print("SERVING" if healthy else "NOT_SERVING")
    sys.exit(0 if healthy else 1)


if __name__ == "__main__":
    main()

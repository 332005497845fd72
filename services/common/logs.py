"""Logging set-up shared by every process."""

from __future__ import annotations

import logging
import sys


def setup_logging(service: str) -> None:
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO,
        format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO; some channels put credentials in the query string
    # (WeChat's OAuth token call carries the app secret), and no secret is ever logged.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

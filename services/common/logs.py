"""Logging set-up shared by every process."""

from __future__ import annotations

import logging
import sys


def setup_logging(service: str) -> None:
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO,
        format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")

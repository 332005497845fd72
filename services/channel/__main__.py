"""``python -m paymesh.services.channel``: runs the channel service."""

from __future__ import annotations

from paymesh.services.channel.server import main

main()

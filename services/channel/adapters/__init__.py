"""The channel adapters, looked up by channel interface code (ifCode)."""

from __future__ import annotations

from collections.abc import Iterable

from paymesh.services.channel.adapters.base import ChannelAdapter
from paymesh.services.common.errors import DomainError
from paymesh.services.common.waycodes import IF_CODES


class AdapterRegistry:
    """Every adapter this service runs, one per ifCode."""

    def __init__(self, adapters: Iterable[ChannelAdapter]) -> None:
        self._adapters = {adapter.if_code: adapter for adapter in adapters}

    def get(self, if_code: str) -> ChannelAdapter:
        """The adapter for ``if_code``; CHANNEL_NOT_SUPPORTED when there is none."""
        adapter = self._adapters.get(if_code)
        if adapter is not None:
            return adapter
        supported = ", ".join(sorted(self._adapters)) or "none"
        if if_code in IF_CODES:
            message = (f"channel {if_code!r} is not implemented by this channel service yet "
                       f"(implemented: {supported})")
        else:
            message = f"unknown channel interface code {if_code!r} (implemented: {supported})"
        raise DomainError("CHANNEL_NOT_SUPPORTED", message)

"""Protobuf timestamps from the aware UTC datetimes the services keep."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2


def timestamp_of(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    """The protobuf form of ``moment``; None (the field left unset) when there is none."""
    if moment is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp

"""The states of NS instances and of LCM operation occurrences (SOL005), and their timing."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

DEFAULT_TIMEOUT = timedelta(minutes=5)


class NsState(StrEnum):
    NOT_INSTANTIATED = "NOT_INSTANTIATED"
    INSTANTIATED = "INSTANTIATED"


class OpState(StrEnum):
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED_TEMP = "FAILED_TEMP"
    FAILED = "FAILED"
    ROLLING_BACK = "ROLLING_BACK"
    ROLLED_BACK = "ROLLED_BACK"


class OpType(StrEnum):
    INSTANTIATE = "INSTANTIATE"
    SCALE = "SCALE"
    UPDATE = "UPDATE"
    HEAL = "HEAL"
    TERMINATE = "TERMINATE"


UNFINISHED = (OpState.PROCESSING, OpState.FAILED_TEMP, OpState.ROLLING_BACK)
MOVING = (OpState.PROCESSING, OpState.ROLLING_BACK)  # what the tracker moves on

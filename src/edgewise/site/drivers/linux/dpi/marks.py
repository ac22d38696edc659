"""The conntrack-mark bits the DPI engine owns (pure): where a flow's application id and its
"DPI is done" bit live, beside the low 16 bits steering owns. docs/dpi.md draws the layout."""

from __future__ import annotations

from typing import Final

STEERING_MASK: Final = 0x0000FFFF  # not ours: steering's link choice
APP_SHIFT: Final = 16
APP_MASK: Final = 0x00FF0000  # the application id (model.applications), 0 = unknown
DONE_BIT: Final = 0x01000000  # DPI is finished with this flow (identified or given up)
DPI_MASK: Final = APP_MASK | DONE_BIT  # what a verdict writes; the other bits stay as they are


def verdict_mark(app_id: int) -> int:
    """The mark bits a verdict writes for a flow found to be `app_id` (0: gave up, unknown)."""
    if not 0 <= app_id <= 0xFF:
        raise ValueError(f"application id {app_id} does not fit in 8 bits")
    return DONE_BIT | (app_id << APP_SHIFT)


def app_of(mark: int) -> int | None:
    """The application id a conntrack mark carries, or None while DPI is not done with it."""
    return (mark & APP_MASK) >> APP_SHIFT if mark & DONE_BIT else None


def merged(old: int, app_id: int) -> int:
    """A mark with its DPI bits replaced by `app_id`'s verdict, all the others kept."""
    return (old & ~DPI_MASK & 0xFFFFFFFF) | verdict_mark(app_id)

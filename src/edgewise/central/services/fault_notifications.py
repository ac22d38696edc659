"""NS fault management notifications (SOL005 `nsfm/v1`): what the alarm engine
(`services.alarms`) calls in the transaction that raises, changes or clears an alarm.

The nsfm part of issue 14 fills these in (FmSubscription filters, AlarmNotification,
AlarmClearedNotification, AlarmListRebuiltNotification, through `services.outbox`); until it
lands they record nothing, and no subscription API exists to hear them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from edgewise.central.store.alarm_tables import AlarmRow


def alarm_raised(session: Session, alarm: AlarmRow) -> None:
    """An alarm was raised: AlarmNotification to the subscriptions that see it."""
    del session, alarm


def alarm_changed(session: Session, alarm: AlarmRow) -> None:
    """An active alarm changed (severity, correlation, details): AlarmNotification again."""
    del session, alarm


def alarm_cleared(session: Session, alarm: AlarmRow) -> None:
    """An alarm was cleared: AlarmClearedNotification."""
    del session, alarm


def alarm_list_rebuilt(session: Session) -> None:
    """The central rebuilt its alarm list: AlarmListRebuiltNotification to every subscription."""
    del session

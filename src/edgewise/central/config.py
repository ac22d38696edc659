"""Central manager settings: read once at start-up from the environment, then passed in."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from edgewise.central.services.alarms_policy import AlarmPolicy
from edgewise.central.services.web_sessions import WebSessionPolicy
from edgewise.model.sites import MAX_POLL_HOLD

DEFAULT_DATA_DIR = Path("var/central")


@dataclass(frozen=True)
class CentralSettings:
    """Where the central keeps its state and how it serves.

    `database_url` selects the store: empty means the embedded SQLite file in
    `data_dir`; a `postgresql+psycopg://...` URL selects PostgreSQL.
    """

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    page_size: int = 100
    southbound_host: str = "127.0.0.1"
    southbound_port: int = 8443
    southbound_hostnames: tuple[str, ...] = ("localhost", "127.0.0.1")
    poll_hold: tuple[float, float] = (30.0, 60.0)
    max_pending_reports: int = 20_000
    write_concurrency: int = 0  # API requests that may write at once; 0: 4 on SQLite, 32 else
    strict_descriptors: bool = False  # onboarding refuses tolerated deviations (warnings) too

    fetch_allowed: tuple[IPv4Network | IPv6Network, ...] = ()  # non-public networks to fetch from
    fetch_deadline: float = 30.0  # s: a package fetched by URI, all of it
    callback_test_deadline: float = 5.0  # s: a callback's endpoint test, all of it
    credentials_key: str = ""  # Fernet key sealing callback credentials; "": credentials.key
    metrics_site_series: int = 500  # GET /metrics: per-site link series up to this many sites
    alarms: AlarmPolicy = field(default_factory=AlarmPolicy)  # EDGEWISE_ALARM_*: docs/alarms.md
    alertmanager_url: str = ""  # post active alarms to this Alertmanager (v2 API); "": none
    alertmanager_interval: float = 30.0  # s: active alerts are sent again this often
    history_retention: tuple[int, int, int] = (2, 35, 400)  # days: minute, hour, day buckets
    web_sessions: WebSessionPolicy = field(default_factory=WebSessionPolicy)  # the portals

    def __post_init__(self) -> None:
        if self.alertmanager_url and not self.alertmanager_url.startswith(("http://", "https://")):
            raise ValueError(
                f"EDGEWISE_ALERTMANAGER_URL {self.alertmanager_url!r}: expected an http:// or "
                "https:// URL of an Alertmanager (its v2 API is under it)"
            )
        if not self.alertmanager_interval > 0:
            raise ValueError("EDGEWISE_ALERTMANAGER_INTERVAL: must be a positive number of seconds")
        low, high = self.poll_hold
        if not 0 < low <= high <= MAX_POLL_HOLD:
            raise ValueError(
                f"EDGEWISE_POLL_HOLD {low:g},{high:g}: a poll is held between 0 and "
                f"{MAX_POLL_HOLD:g} s (a site's presence counts on a poll at least that often)"
            )

    @property
    def api_write_concurrency(self) -> int:
        if self.write_concurrency > 0:
            return self.write_concurrency
        return 32 if self.database_url.startswith("postgresql") else 4

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'edgewise.db').resolve()}"

    @property
    def admin_token_file(self) -> Path:
        return self.data_dir / "admin.token"

    @property
    def credentials_key_file(self) -> Path:
        return self.data_dir / "credentials.key"

    @property
    def pki_dir(self) -> Path:
        return self.data_dir / "pki"

    @classmethod
    def from_environment(cls, data_dir: Path | None = None) -> CentralSettings:
        env_dir = os.environ.get("EDGEWISE_DATA_DIR")
        chosen = data_dir or (Path(env_dir) if env_dir else DEFAULT_DATA_DIR)
        hostnames = os.environ.get("EDGEWISE_SOUTHBOUND_HOSTNAMES", "localhost,127.0.0.1")
        hold = os.environ.get("EDGEWISE_POLL_HOLD", "30,60").split(",")
        return cls(
            data_dir=chosen,
            database_url=os.environ.get("EDGEWISE_DATABASE_URL", ""),
            page_size=int(os.environ.get("EDGEWISE_PAGE_SIZE", "100")),
            southbound_host=os.environ.get("EDGEWISE_SOUTHBOUND_HOST", "127.0.0.1"),
            southbound_port=int(os.environ.get("EDGEWISE_SOUTHBOUND_PORT", "8443")),
            southbound_hostnames=tuple(h.strip() for h in hostnames.split(",") if h.strip()),
            poll_hold=(float(hold[0]), float(hold[-1])),
            write_concurrency=int(os.environ.get("EDGEWISE_WRITE_CONCURRENCY", "0")),
            strict_descriptors=_flag("EDGEWISE_STRICT_DESCRIPTORS"),
            fetch_allowed=networks(os.environ.get("EDGEWISE_FETCH_ALLOW", "")),
            fetch_deadline=float(os.environ.get("EDGEWISE_FETCH_DEADLINE", "30")),
            credentials_key=os.environ.get("EDGEWISE_CREDENTIALS_KEY", ""),
            metrics_site_series=int(os.environ.get("EDGEWISE_METRICS_SITE_SERIES", "500")),
            alarms=alarm_policy(),
            alertmanager_url=os.environ.get("EDGEWISE_ALERTMANAGER_URL", "").strip(),
            alertmanager_interval=float(os.environ.get("EDGEWISE_ALERTMANAGER_INTERVAL", "30")),
            history_retention=_days(os.environ.get("EDGEWISE_HISTORY_RETENTION", "2,35,400")),
            web_sessions=web_session_policy(),
        )


def alarm_policy() -> AlarmPolicy:
    """The alarm thresholds from EDGEWISE_ALARM_* (defaults: AlarmPolicy's)."""
    default = AlarmPolicy()

    def number(name: str, value: float) -> float:
        text = os.environ.get(f"EDGEWISE_ALARM_{name}", "").strip()
        try:
            return float(text) if text else value
        except ValueError:
            raise ValueError(f"EDGEWISE_ALARM_{name}={text!r}: expected a number") from None

    return AlarmPolicy(
        offline_holds=number("OFFLINE_HOLDS", default.offline_holds),
        flap_restarts=int(number("FLAP_RESTARTS", default.flap_restarts)),
        flap_window_s=number("FLAP_WINDOW", default.flap_window_s),
        drift_repairs=int(number("DRIFT_REPAIRS", default.drift_repairs)),
        drift_window_s=number("DRIFT_WINDOW", default.drift_window_s),
        certificate_days=int(number("CERTIFICATE_DAYS", default.certificate_days)),
        sweep_batch=int(number("SWEEP_BATCH", default.sweep_batch)),
    )


def networks(text: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Networks from a comma-separated list (`127.0.0.0/8,::1`); ValueError names a bad one."""
    found = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            found.append(ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"EDGEWISE_FETCH_ALLOW: {item!r} is not a network: {exc}") from exc
    return tuple(found)


def _days(text: str) -> tuple[int, int, int]:
    """Days of link history kept: `2,35,400` (minute, hour and day buckets, each no shorter
    than the finer one's); ValueError names the setting."""
    parts = [part.strip() for part in text.split(",")]
    days = tuple(int(part) for part in parts if part.isdigit())
    if len(parts) != 3 or len(days) != 3 or not 1 <= days[0] <= days[1] <= days[2] <= 3660:
        raise ValueError(
            f"EDGEWISE_HISTORY_RETENTION={text!r}: three whole numbers of days, for minute, hour "
            "and day buckets, each at least 1, no shorter than the finer one's, at most 3660 "
            "(e.g. 2,35,400)"
        )
    return (days[0], days[1], days[2])


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def _flag(name: str) -> bool:
    """A boolean setting; anything but a yes or a no stops the start with the variable named."""
    value = os.environ.get(name, "").strip().lower()
    if value not in _TRUE | _FALSE:
        raise ValueError(
            f"{name}={os.environ[name]!r}: expected true or false (1/0, yes/no, on/off)"
        )
    return value in _TRUE


def web_session_policy() -> WebSessionPolicy:
    """EDGEWISE_WEB_SESSION="HOURS,IDLE_MINUTES": a portal session's absolute lifetime and its
    idle timeout (default 12 h, 30 min)."""
    raw = os.environ.get("EDGEWISE_WEB_SESSION", "12,30")
    try:
        hours, minutes = (float(part) for part in raw.split(","))
    except ValueError:
        raise ValueError(
            f"EDGEWISE_WEB_SESSION {raw!r}: expected HOURS,IDLE_MINUTES such as 12,30"
        ) from None
    if not (0 < hours <= 24 * 30 and 0 < minutes <= hours * 60):
        raise ValueError(
            f"EDGEWISE_WEB_SESSION {raw!r}: the lifetime is 0-720 hours and the idle timeout "
            "positive and no longer than the lifetime"
        )
    return WebSessionPolicy(timedelta(hours=hours), timedelta(minutes=minutes))

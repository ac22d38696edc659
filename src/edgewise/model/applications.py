"""The applications Edgewise recognises by layer 7 (pure data): the shipped catalogue and the
operators' own host-pattern applications, each with the small stable id the DPI engine writes
into a flow's conntrack mark (docs/dpi.md). The classifier and steering both look names up here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

NAME_PATTERN: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")  # desired.NAME's syntax
HOST_PATTERN: Final = re.compile(
    r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$"
)
UNKNOWN_ID: Final = 0  # no application identified (or one the catalogue does not list)
CATALOGUE_IDS: Final = range(1, 128)  # the shipped catalogue: fixed, never reused
CUSTOM_IDS: Final = range(128, 256)  # operators' host-pattern applications
MAX_CUSTOM: Final = 64
MAX_HOSTS: Final = 64


class Category(StrEnum):
    """What an application is for: steering policies usually pick by category."""

    INFRASTRUCTURE = "infrastructure"
    WEB = "web"
    MAIL = "mail"
    VOICE = "voice"
    VIDEO = "video"
    CONFERENCING = "conferencing"
    SAAS = "saas"
    REMOTE_ACCESS = "remote-access"
    BULK = "bulk"
    VPN = "vpn"
    CUSTOM = "custom"


@dataclass(frozen=True)
class Application:
    """One application: its Edgewise name, id (the conntrack-mark value), category, the nDPI
    protocol names that mean it (nDPI 4.2 spelling) and, for a custom one, its host patterns."""

    app_id: int
    name: str
    category: Category
    ndpi_names: tuple[str, ...]
    description: str
    hosts: tuple[str, ...] = ()


def _app(app_id: int, name: str, category: Category, ndpi: str, description: str) -> Application:
    return Application(app_id, name, category, tuple(ndpi.split()), description)


_I, _W, _M = Category.INFRASTRUCTURE, Category.WEB, Category.MAIL
_VO, _VI, _C = Category.VOICE, Category.VIDEO, Category.CONFERENCING
_S, _R, _B, _V = Category.SAAS, Category.REMOTE_ACCESS, Category.BULK, Category.VPN

# Ids are part of the data plane's contract (marks of live flows, steering rules): an entry's id
# never changes and a removed entry's id is never given to another. Append only.
CATALOGUE: Final[tuple[Application, ...]] = (
    _app(1, "dns", _I, "DNS", "Domain Name System queries"),
    _app(2, "http", _W, "HTTP HTTP_Connect HTTP_Proxy", "plain HTTP"),
    _app(3, "tls", _W, "TLS", "TLS of any application the catalogue does not name"),
    _app(4, "ssh", _R, "SSH", "Secure Shell"),
    _app(5, "sip", _VO, "SIP", "SIP voice signalling"),
    _app(6, "rtp", _VO, "RTP RTCP", "RTP media (voice, video)"),
    _app(7, "quic", _W, "QUIC", "QUIC of any application the catalogue does not name"),
    _app(8, "ntp", _I, "NTP", "Network Time Protocol"),
    _app(9, "smtp", _M, "SMTP SMTPS", "mail submission and relay"),
    _app(10, "imap", _M, "IMAP IMAPS", "mailbox access (IMAP)"),
    _app(11, "pop3", _M, "POP3 POPS", "mailbox access (POP3)"),
    _app(12, "bittorrent", _B, "BitTorrent", "BitTorrent peer-to-peer"),
    _app(13, "netflix", _VI, "NetFlix", "Netflix streaming"),
    _app(14, "youtube", _VI, "YouTube YouTubeUpload", "YouTube"),
    _app(15, "zoom", _C, "Zoom", "Zoom meetings"),
    _app(16, "teams", _C, "Teams Skype_Teams", "Microsoft Teams and Skype"),
    _app(17, "office365", _S, "Microsoft365 MS_OneDrive Microsoft", "Microsoft 365"),
    _app(18, "salesforce", _S, "Salesforce", "Salesforce"),
    _app(19, "webex", _C, "Webex", "Cisco Webex"),
    _app(20, "rdp", _R, "RDP", "Remote Desktop Protocol"),
    _app(21, "vnc", _R, "VNC", "VNC remote desktop"),
    _app(22, "dhcp", _I, "DHCP", "DHCP address assignment"),
    _app(23, "snmp", _I, "SNMP", "SNMP monitoring"),
    _app(24, "ftp", _B, "FTP_CONTROL FTP_DATA", "File Transfer Protocol"),
    _app(25, "dropbox", _B, "Dropbox", "Dropbox file sync"),
    _app(26, "slack", _S, "Slack", "Slack"),
    _app(27, "github", _S, "Github GitLab Git", "Git hosting"),
    _app(28, "google-workspace", _S, "GoogleDocs GoogleDrive GMail", "Google Workspace"),
    _app(29, "whatsapp", _VO, "WhatsApp WhatsAppCall WhatsAppFiles", "WhatsApp"),
    _app(30, "spotify", _VI, "Spotify", "Spotify streaming"),
    _app(31, "windows-update", _B, "WindowsUpdate", "Windows Update downloads"),
    _app(32, "openvpn", _V, "OpenVPN", "OpenVPN tunnels"),
    _app(33, "wireguard", _V, "WireGuard", "WireGuard tunnels"),
    _app(34, "ipsec", _V, "IPsec", "IPsec (IKE, ESP over UDP)"),
    _app(35, "stun", _VO, "STUN", "STUN (real-time media set-up)"),
    _app(36, "teamviewer", _R, "TeamViewer AnyDesk", "remote support tools"),
    _app(37, "aws", _S, "AmazonAWS", "Amazon Web Services"),
    _app(38, "azure", _S, "Azure", "Microsoft Azure"),
    _app(39, "ldap", _I, "LDAP Kerberos", "directory and authentication"),
    _app(40, "telnet", _R, "Telnet", "Telnet"),
)


class CatalogueError(ValueError):
    """A custom application that cannot be accepted: says which and why."""


@dataclass(frozen=True)
class Applications:
    """The applications one classifier knows: the catalogue and the custom ones, by id and name.

    Built once at start-up (`Applications.build`) and passed in; frozen."""

    entries: tuple[Application, ...]

    @classmethod
    def build(cls, custom: Mapping[str, Iterable[str]] = {}) -> Applications:
        """The catalogue plus `custom` (name → host patterns such as `*.example.com`)."""
        return cls((*CATALOGUE, *custom_applications(custom)))

    def by_id(self, app_id: int) -> Application | None:
        return next((a for a in self.entries if a.app_id == app_id), None)

    def by_name(self, name: str) -> Application | None:
        return next((a for a in self.entries if a.name == name), None)

    def ndpi_index(self) -> dict[str, Application]:
        """nDPI protocol name → the application it means."""
        return {n: a for a in self.entries for n in a.ndpi_names}

    def custom(self) -> tuple[Application, ...]:
        return tuple(a for a in self.entries if a.hosts)


def custom_applications(custom: Mapping[str, Iterable[str]]) -> tuple[Application, ...]:
    """Custom applications with their ids. An id is a hash of the name into 128-255, so the same
    name keeps its id across restarts and edits of the others; on a collision the names in
    sorted order take the next free id (rare with the few a site defines)."""
    if len(custom) > MAX_CUSTOM:
        raise CatalogueError(f"{len(custom)} custom applications: at most {MAX_CUSTOM}")
    taken: set[int] = set()
    made = []
    for name in sorted(custom):
        hosts = tuple(custom[name])
        _check_custom(name, hosts)
        app_id = home_id(name)
        while app_id in taken:
            app_id = CUSTOM_IDS.start + (app_id + 1 - CUSTOM_IDS.start) % len(CUSTOM_IDS)
        taken.add(app_id)
        made.append(
            Application(app_id, name, Category.CUSTOM, (_ndpi_name(name),), "custom", hosts)
        )
    return tuple(made)


def home_id(name: str) -> int:
    """The id a custom application's name hashes to (before collisions are resolved)."""
    digest = hashlib.blake2b(name.encode(), digest_size=4).digest()
    return CUSTOM_IDS.start + int.from_bytes(digest, "big") % len(CUSTOM_IDS)


def _ndpi_name(name: str) -> str:
    """The custom protocol's name inside nDPI (prefixed so it never shadows one of nDPI's)."""
    return "EW_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _check_custom(name: str, hosts: tuple[str, ...]) -> None:
    if not NAME_PATTERN.match(name):
        raise CatalogueError(f"custom application {name!r}: not a name of letters, digits, _ . -")
    if any(a.name == name for a in CATALOGUE):
        raise CatalogueError(f"custom application {name!r}: the catalogue already names it")
    if not hosts or len(hosts) > MAX_HOSTS:
        raise CatalogueError(f"custom application {name!r}: give 1 to {MAX_HOSTS} host patterns")
    for host in hosts:
        if not HOST_PATTERN.match(host) or len(host) > 253:
            raise CatalogueError(
                f"custom application {name!r}: host pattern {host!r} is not a domain name, "
                "optionally starting with *."
            )

"""The nDPI 4.2 library through ctypes (Debian `libndpi4.2`, found by its soname): one detection
module, a flow state per flow, packets in from their IPv4 header, protocol ids and names out.

Only the shared library is needed at run time; the signatures below follow `ndpi_api.h` 4.2.
"""

from __future__ import annotations

import ctypes
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from edgewise.site.drivers.linux.dpi.errors import DpiConfigError, DpiUnavailable

SONAME: Final = "libndpi.so.4.2"
PACKAGE: Final = "libndpi4.2"
BITMASK_WORDS: Final = 512 // 32  # NDPI_NUM_BITS / bits of ndpi_ndpi_mask
UNKNOWN: Final = 0


class _Protocol(ctypes.Structure):
    """`ndpi_protocol`: master and application protocol ids, and nDPI's category."""

    _fields_ = (
        ("master_protocol", ctypes.c_uint16),
        ("app_protocol", ctypes.c_uint16),
        ("category", ctypes.c_int),
    )


@dataclass(frozen=True)
class Detection:
    """What nDPI says of a flow: the master protocol (e.g. TLS) and the application (e.g.
    YouTube); either may be 0 (unknown)."""

    master: int
    app: int

    @property
    def known(self) -> bool:
        return self.master != UNKNOWN or self.app != UNKNOWN


def load_library() -> ctypes.CDLL:
    """The nDPI shared library with its functions typed; DpiUnavailable when it is missing."""
    try:
        lib = ctypes.CDLL(SONAME)
    except OSError as exc:
        raise DpiUnavailable(
            f"nDPI library {SONAME} not found: install the Debian package {PACKAGE} ({exc})"
        ) from exc
    p, u16, u32 = ctypes.c_void_p, ctypes.c_uint16, ctypes.c_uint32
    _sig(lib.ndpi_revision, ctypes.c_char_p)
    _sig(lib.ndpi_init_detection_module, p, u32)
    _sig(lib.ndpi_set_protocol_detection_bitmask2, None, p, p)
    _sig(lib.ndpi_load_protocols_file, ctypes.c_int, p, ctypes.c_char_p)
    _sig(lib.ndpi_finalize_initialization, None, p)
    _sig(lib.ndpi_exit_detection_module, None, p)
    _sig(lib.ndpi_detection_get_sizeof_ndpi_flow_struct, u32)
    _sig(lib.ndpi_free_flow_data, None, p)
    _sig(lib.ndpi_detection_process_packet, _Protocol, p, p, p, ctypes.c_ushort, ctypes.c_uint64)
    _sig(lib.ndpi_detection_giveup, _Protocol, p, p, ctypes.c_uint8, ctypes.c_void_p)
    _sig(lib.ndpi_get_proto_name, ctypes.c_char_p, p, u16)
    _sig(lib.ndpi_get_protocol_id, ctypes.c_int, p, ctypes.c_char_p)
    _sig(lib.ndpi_get_num_supported_protocols, ctypes.c_uint, p)
    return lib


def _sig(func: Any, restype: object, *argtypes: object) -> None:
    func.restype = restype
    func.argtypes = argtypes


class Flow:
    """nDPI's state of one flow (`ndpi_flow_struct`, zeroed); `close` frees what nDPI hung on it."""

    def __init__(self, detector: Detector) -> None:
        self._detector = detector
        self.buffer: ctypes.Array[ctypes.c_char] | None = ctypes.create_string_buffer(
            detector.flow_size
        )

    def close(self) -> None:
        if self.buffer is not None:
            self._detector.lib.ndpi_free_flow_data(self.buffer)
            self.buffer = None


class Detector:
    """One nDPI detection module with every protocol enabled and the given host patterns loaded
    as custom protocols (`host:"example.com"@Name`). Not thread safe: one per thread."""

    def __init__(self, custom_hosts: Iterable[tuple[str, Iterable[str]]] = ()) -> None:
        self.lib = load_library()
        self.module = self.lib.ndpi_init_detection_module(0)
        if not self.module:
            raise DpiUnavailable("nDPI could not make a detection module (out of memory?)")
        try:
            everything = (ctypes.c_uint32 * BITMASK_WORDS)(*([0xFFFFFFFF] * BITMASK_WORDS))
            self.lib.ndpi_set_protocol_detection_bitmask2(self.module, everything)
            self._load_custom(list(custom_hosts))
            self.lib.ndpi_finalize_initialization(self.module)
        except BaseException:
            self.close()
            raise
        self.flow_size: int = self.lib.ndpi_detection_get_sizeof_ndpi_flow_struct()
        self.version = (self.lib.ndpi_revision() or b"?").decode()

    def _load_custom(self, custom: list[tuple[str, Iterable[str]]]) -> None:
        if not custom:
            return
        lines: list[str] = []
        for ndpi_name, hosts in custom:
            lines.extend(f'host:"{host_rule(h)}"@{ndpi_name}' for h in hosts)
        with tempfile.NamedTemporaryFile("w", prefix="edgewise-dpi-", suffix=".protos") as file:
            file.write("\n".join(lines) + "\n")
            file.flush()
            if self.lib.ndpi_load_protocols_file(self.module, file.name.encode()) != 0:
                raise DpiConfigError(f"nDPI refused the custom applications' hosts: {lines}")
        missing = [n for n, _ in custom if self.protocol_id(n) is None]
        if missing:
            raise DpiConfigError(f"nDPI did not define the custom applications {missing}")

    def new_flow(self) -> Flow:
        return Flow(self)

    def process(self, flow: Flow, packet: bytes, time_ms: int) -> Detection:
        """Feeds one IPv4 packet (from its IP header) of `flow`; what nDPI knows so far."""
        if flow.buffer is None:
            raise ValueError("the flow was closed")
        got = self.lib.ndpi_detection_process_packet(
            self.module, flow.buffer, packet, min(len(packet), 0xFFFF), time_ms
        )
        return Detection(got.master_protocol, got.app_protocol)

    def give_up(self, flow: Flow) -> Detection:
        """nDPI's last word on a flow it has not identified (guessing by port is left off)."""
        if flow.buffer is None:
            raise ValueError("the flow was closed")
        guessed = ctypes.c_uint8(0)  # nDPI 4.2 writes it even when not guessing: never NULL
        got = self.lib.ndpi_detection_giveup(self.module, flow.buffer, 0, ctypes.byref(guessed))
        return Detection(got.master_protocol, got.app_protocol)

    def name(self, protocol_id: int) -> str:
        raw = self.lib.ndpi_get_proto_name(self.module, protocol_id)
        return raw.decode() if raw else "Unknown"

    def protocol_id(self, name: str) -> int | None:
        found = self.lib.ndpi_get_protocol_id(self.module, name.encode())
        return None if found < 0 else int(found)

    def names(self) -> list[str]:
        """Every protocol name nDPI knows, by id (custom ones included)."""
        count = self.lib.ndpi_get_num_supported_protocols(self.module)
        return [self.name(i) for i in range(count)]

    def close(self) -> None:
        if self.module:
            self.lib.ndpi_exit_detection_module(self.module)
            self.module = None


def host_rule(pattern: str) -> str:
    """nDPI's form of a host pattern: nDPI matches a host rule against the end of a name on a
    label boundary, so `*.example.com` and `example.com` both become `example.com`."""
    return pattern.removeprefix("*.")

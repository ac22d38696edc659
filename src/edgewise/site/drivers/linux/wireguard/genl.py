"""Whether this kernel has WireGuard: generic netlink's controller asked for the `wireguard`
family (present when the module is built in or loaded). One request, no helper program."""

from __future__ import annotations

import socket
import struct

from edgewise.site.drivers.linux import rtcodec as rt

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 0x1
NLMSG_ERROR = 2
FAMILY = "wireguard"


def kernel_has_wireguard() -> bool:
    """True when the kernel knows the `wireguard` generic netlink family."""
    return kernel_has_family(FAMILY)


def kernel_has_family(name: str) -> bool:
    """True when the kernel knows the generic netlink family `name`."""
    body = struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0) + rt.attr_str(CTRL_ATTR_FAMILY_NAME, name)
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC) as sock:
            sock.settimeout(2.0)
            sock.bind((0, 0))
            sock.send(rt.message(GENL_ID_CTRL, NLM_F_REQUEST, 1, body))
            data = sock.recv(65536)
    except OSError:
        return False
    for kind, _, _, payload in rt.messages(data):
        if kind == NLMSG_ERROR:
            code: int = struct.unpack_from("=i", payload)[0]
            return code == 0
        return kind == GENL_ID_CTRL
    return False

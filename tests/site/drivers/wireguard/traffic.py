"""Traffic programs for the overlay tests, run inside a namespace: an ICMP pinger that counts
losses, a TCP sink and a TCP stream whose gaps are measured, a marker sender."""

from __future__ import annotations

PINGER = """
import socket, struct, sys, time
def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF
target, interval, duration = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setblocking(False)
ident, sent, got = 0x4577, 0, set()
start = time.monotonic()
print("started", flush=True)
next_send = start
while time.monotonic() < start + duration + 1.0:
    now = time.monotonic()
    if now >= next_send and now < start + duration:
        sent += 1
        packet = struct.pack("!BBHHH", 8, 0, 0, ident, sent) + b"edgewise-overlay"
        packet = packet[:2] + struct.pack("!H", checksum(packet)) + packet[4:]
        s.sendto(packet, (target, 0))
        next_send += interval
    try:
        data, peer = s.recvfrom(2048)
        icmp = data[20:]
        if peer[0] == target and icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
            got.add(struct.unpack("!H", icmp[6:8])[0])
    except BlockingIOError:
        time.sleep(0.001)
lost = sorted(set(range(1, sent + 1)) - got)
print(f"sent {sent} received {len(got)} lost {lost}", flush=True)
"""

TIMED_PINGER = """
import socket, struct, sys, time
def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF
target, interval, duration, late_s = (sys.argv[1], float(sys.argv[2]), float(sys.argv[3]),
                                      float(sys.argv[4]))
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setblocking(False)
ident, sent, times, late = 0x4578, 0, {}, []
start = time.monotonic()
print("started", flush=True)
next_send = start
while time.monotonic() < start + duration + 2.0:
    now = time.monotonic()
    if now >= next_send and now < start + duration:
        sent += 1
        times[sent] = now
        packet = struct.pack("!BBHHH", 8, 0, 0, ident, sent) + b"edgewise-rotations"
        packet = packet[:2] + struct.pack("!H", checksum(packet)) + packet[4:]
        s.sendto(packet, (target, 0))
        next_send += interval
    try:
        data, peer = s.recvfrom(2048)
        icmp = data[20:]
        if peer[0] == target and icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
            seq = struct.unpack("!H", icmp[6:8])[0]
            if seq in times:
                if time.monotonic() - times.pop(seq) > late_s:
                    late.append(seq)
    except BlockingIOError:
        time.sleep(0.001)
print(f"sent {sent} lost {sorted(times)} late {sorted(late)}", flush=True)
"""

SINK = """
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(4)
print("ready", flush=True)
c, peer = s.accept()
c.settimeout(float(sys.argv[2]))
total, last, gap = 0, time.monotonic(), 0.0
try:
    while data := c.recv(65536):
        now = time.monotonic()
        if total:
            gap = max(gap, now - last)
        total, last = total + len(data), now
        if data.endswith(b"END"):
            break
    print(f"received {total} gap {gap:.3f} end", flush=True)
except ConnectionResetError:
    print(f"received {total} gap {gap:.3f} reset", flush=True)
except OSError as exc:
    print(f"received {total} gap {gap:.3f} error {exc}", flush=True)
"""

STREAM = """
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.settimeout(30)
print("connected", flush=True)
chunk, sent, deadline = b"x" * 1000, 0, time.monotonic() + float(sys.argv[3])
try:
    while time.monotonic() < deadline:
        s.sendall(chunk); sent += len(chunk)
        time.sleep(0.005)
    s.sendall(b"END"); s.shutdown(socket.SHUT_WR)
    s.recv(1)
    print(f"sent {sent} ok", flush=True)
except OSError as exc:
    print(f"sent {sent} failed {exc}", flush=True)
"""

ECHO = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(4)
print("ready", flush=True)
while True:
    c, peer = s.accept()
    c.settimeout(5)
    data = c.recv(65536)
    c.sendall(peer[0].encode() + b" " + data)
    c.close()
"""

SEND = """
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.settimeout(3)
s.sendall(sys.argv[3].encode())
print(s.recv(65536).decode(), flush=True)
"""

"""The classifier's own hook rules, through iptables-nft (native nft `queue` statements do not
work on these kernels; `-j NFQUEUE` does): a chain of its own in the mangle table, jumped to from
the chosen hooks, queueing only packets of flows DPI is not done with, at most N per flow.
Idempotent; `remove` takes them all away.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from typing import Final

from edgewise.site.drivers.linux.dpi import marks
from edgewise.site.drivers.linux.dpi.errors import DpiUnavailable, QueueError

IPTABLES: Final = "iptables-nft"
HOOKS: Final = ("PREROUTING", "FORWARD", "OUTPUT", "POSTROUTING", "INPUT")
TIMEOUT: Final = 10.0


@dataclass(frozen=True)
class HookRules:
    """The rules of one classifier: queue number, packet bound per flow, hooks it sits in."""

    queue: int
    packets: int
    hooks: tuple[str, ...] = ("FORWARD",)
    dns: bool = False  # queue every DNS answer too (DNS-based learning, dnslearn.py)

    @property
    def chain(self) -> str:
        return f"EDGEWISE-DPI-{self.queue}"

    def chain_rules(self) -> list[list[str]]:
        """The chain's rules. First: a packet the classifier gave a verdict mark (it comes back
        through the hook, NF_REPEAT) has its DPI bits saved into its conntrack mark, other bits
        untouched. Then TCP and UDP packets of a flow whose conntrack mark lacks the DPI bit,
        within its first `packets` packets (both directions), to the queue; without a listener
        the kernel lets them pass (`--queue-bypass`). With `dns`, DNS answers too."""
        done, mask = f"{marks.DONE_BIT:#x}", f"{marks.DPI_MASK:#x}"
        pending = f"-m connmark --mark 0/{done}"
        save = f"-m mark --mark {done}/{done} {pending} -j CONNMARK --save-mark"
        save += f" --nfmask {mask} --ctmask {mask}"
        count = f"-m connbytes --connbytes 0:{self.packets} --connbytes-dir both"
        count += " --connbytes-mode packets"
        target = f"-j NFQUEUE --queue-num {self.queue} --queue-bypass"
        queue = [f"-p {proto} {pending} {count} {target}" for proto in ("tcp", "udp")]
        if self.dns:  # (after the others: these are answers of flows already decided)
            queue.append(f"-p udp --sport 53 {target}")
        return [rule.split() for rule in (save, *queue)]

    def restore_input(self) -> str:
        """iptables-restore input that makes (or empties) the chain and fills it, atomically."""
        lines = ["*mangle", f":{self.chain} - [0:0]"]
        lines += [" ".join(["-A", self.chain, *rule]) for rule in self.chain_rules()]
        return "\n".join([*lines, "COMMIT", ""])


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    if shutil.which(args[0]) is None:
        raise DpiUnavailable(f"{args[0]} not found: install the Debian package iptables")
    try:
        return subprocess.run(  # noqa: S603 - iptables-nft with our own arguments
            args, input=stdin, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise QueueError(f"{' '.join(args)}: {exc}") from exc


def install(rules: HookRules) -> None:
    """Makes the chain with its rules and jumps to it first thing in each hook (once)."""
    bad = [h for h in rules.hooks if h not in HOOKS]
    if bad:
        raise ValueError(f"hooks {bad}: the mangle table has only {HOOKS}")
    done = _run(f"{IPTABLES}-restore", "--noflush", stdin=rules.restore_input())
    if done.returncode != 0:
        raise QueueError(f"{IPTABLES}-restore of {rules.chain}: {done.stderr.strip()}")
    for hook in rules.hooks:
        if _run(IPTABLES, "-t", "mangle", "-C", hook, "-j", rules.chain).returncode != 0:
            done = _run(IPTABLES, "-t", "mangle", "-I", hook, "1", "-j", rules.chain)
            if done.returncode != 0:
                raise QueueError(f"{IPTABLES} jump to {rules.chain} in {hook}: {done.stderr}")


def remove(rules: HookRules) -> None:
    """Takes the jumps (from every hook), the chain's rules and the chain away; no error when
    they are already gone."""
    for hook in HOOKS:
        for _ in range(64):  # bounded: each round removes one jump
            if _run(IPTABLES, "-t", "mangle", "-D", hook, "-j", rules.chain).returncode != 0:
                break
    if _run(IPTABLES, "-t", "mangle", "-F", rules.chain).returncode == 0:
        _run(IPTABLES, "-t", "mangle", "-X", rules.chain)


def installed(rules: HookRules) -> list[str]:
    """The chain's rules as iptables lists them ([] when it is not there)."""
    done = _run(IPTABLES, "-t", "mangle", "-S", rules.chain)
    return done.stdout.splitlines() if done.returncode == 0 else []

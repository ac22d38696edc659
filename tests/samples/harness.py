"""TEST-ONLY stand-in for the path a sample package takes at a site, until the VNFD mapping
(tosca/software.py) and the site runtime land: the VNFD read into the SoftwareConfig contract
(the model checks it), templates rendered with string.Template, each VDU's boot_data run plainly
(no confinement, no limits) in the lab's VNF namespace with /run private, readiness awaited.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from string import Template
from typing import Any

import yaml

from edgewise.model.fields import read
from edgewise.model.software import Program, SoftwareConfig
from tests.samples.csar import vnfd_path
from tests.samples.lab import Lab, in_namespace, wait_for

READY_S = 20.0  # the samples' tests wait no longer for a program to serve
_FILE_TYPES = {
    "tosca.artifacts.template": (True, 0o644),
    "tosca.artifacts.File": (False, 0o644),
    "tosca.artifacts.Implementation.Bash": (False, 0o755),
}


def software_config(package: Path, params: Mapping[str, str]) -> SoftwareConfig:
    """The package's VNF as the contract carries it, `params` over the inputs' defaults."""
    vnfd: dict[str, Any] = yaml.safe_load(vnfd_path(package).read_text())
    topology = vnfd["topology_template"]
    nodes: dict[str, dict[str, Any]] = topology["node_templates"]
    vnf = next(n for n in nodes.values() if "descriptor_id" in n.get("properties", {}))
    props = vnf["properties"]
    reload, _, reload_signal = (
        vnf.get("metadata", {}).get("edgewise.reload", "restart").partition(":")
    )
    values = {k: str(v["default"]) for k, v in topology.get("inputs", {}).items() if "default" in v}
    values.update(params)
    programs, packages = [], {}
    for node in nodes.values():
        if node["type"] == "tosca.nodes.nfv.Vdu.Compute":
            programs.append(_program(node))
            image = node["properties"]["sw_image_data"]
            packages[image["name"]] = image["version"]
            for extra in node.get("metadata", {}).get("edgewise.packages", "").split():
                packages.setdefault(extra, "any")
    files, by_name = [], {}
    for name, artifact in vnf.get("artifacts", {}).items():
        template, mode = _FILE_TYPES[artifact["type"]]
        content = (package / artifact["file"]).read_text()
        path = artifact.get("deploy_path", artifact["file"])
        by_name[name] = path
        files.append(
            {
                "path": path,
                "content": content,
                "template": template,
                "mode": mode,
                "sha256": hashlib.sha256(content.encode()).hexdigest(),
            }
        )
    hooks = []
    for operation, spec in vnf.get("interfaces", {}).get("Vnflcm", {}).items():
        implementation = spec["implementation"]
        primary = implementation["primary"] if isinstance(implementation, dict) else implementation
        hook = {"operation": operation, "command": ["${root}/" + by_name[primary]]}
        if isinstance(implementation, dict) and "timeout" in implementation:
            hook["timeout_s"] = implementation["timeout"]
        hooks.append(hook)
    document = {
        "vnfd_id": props["descriptor_id"],
        "vnfd_version": props["descriptor_version"],
        "provider": props["provider"],
        "product": props["product_name"],
        "programs": programs,
        "packages": [
            {"name": k} | ({} if v == "any" else {"version": v}) for k, v in packages.items()
        ],
        "files": files,
        "hooks": hooks,
        "params": values,
        "reload": reload,
    } | ({"reload_signal": reload_signal} if reload_signal else {})
    return read(SoftwareConfig, document)


def _program(node: dict[str, Any]) -> dict[str, Any]:
    props, meta = node["properties"], node.get("metadata", {})
    boot = props["boot_data"]
    program: dict[str, Any] = {
        "name": props["name"],
        "command": shlex.split(boot) if isinstance(boot, str) else boot,
        "restart": meta.get("edgewise.restart", "always"),
        "capabilities": meta.get("edgewise.capabilities", "").split(),
    }
    kind, _, rest = meta.get("edgewise.ready", "").partition(":")
    if kind == "command":
        program["ready"] = {"kind": kind, "command": shlex.split(rest)}
    elif kind:
        program["ready"] = {"kind": kind, "port": int(rest)}
    compute = node["capabilities"]["virtual_compute"]["properties"]
    cpus = compute["virtual_cpu"]["num_virtual_cpu"]
    program["cpu_millis"] = int(meta.get("edgewise.cpu_millis", cpus * 1000))
    size, unit = compute["virtual_memory"]["virtual_mem_size"].split()
    program["memory_mib"] = int(size) * {"MiB": 1, "GiB": 1024}[unit]
    return program


def render(config: SoftwareConfig, variables: Mapping[str, str]) -> Path:
    """Writes the package's files under `${root}` (templates filled in); the root."""
    root = Path(variables["root"])
    for file in config.files:
        target = root / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        text = Template(file.content).substitute(variables) if file.template else file.content
        target.write_text(text)
        target.chmod(file.mode)
    return root


@dataclass
class RunningVnf:
    """A sample VNF's programs running in the lab's VNF namespace."""

    lab: Lab
    package: Path
    config: SoftwareConfig
    variables: dict[str, str]
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def environment(self) -> dict[str, str]:
        """What programs, probes and hooks get: PATH and every variable in upper case."""
        return {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")} | {
            k.upper(): v for k, v in self.variables.items()
        }

    def argv(self, command: tuple[str, ...]) -> list[str]:
        return [Template(arg).substitute(self.variables) for arg in command]

    def start(self) -> None:
        """Starts each program, then waits until each is ready."""
        run_dir = Path(self.variables["run"])
        for program in self.config.programs:
            self.processes[program.name] = self.lab.spawn(
                self.lab.vnf,
                self.argv(program.command),
                self.logs / f"{program.name}.log",
                run_dir=run_dir,
                env=self.environment,
            )
        for program in self.config.programs:
            process = self.processes[program.name]
            try:
                wait_for(f"{program.name} ready", partial(self._ready, program, process), READY_S)
            except AssertionError as exc:
                raise AssertionError(f"{exc}; its log: {self.log(program.name)}") from exc

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-2000:]

    def _ready(self, program: Program, process: subprocess.Popen[bytes]) -> bool:
        if process.poll() is not None:
            raise AssertionError(
                f"{program.name} exited with {process.returncode}: {self.log(program.name)}"
            )
        ready = program.ready
        if ready is None:
            return True
        if ready.kind == "command":
            return self.call(ready.command).returncode == 0
        flags = "-Hltn" if ready.kind == "tcp" else "-Hlun"
        listening = self.lab.run(self.lab.vnf, "ss", flags, f"sport = :{ready.port}").stdout
        return bool(listening.strip())

    def call(
        self, command: tuple[str, ...], timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """A command (templates filled in) run to its end beside the programs."""
        argv = in_namespace(self.lab.vnf, self.argv(command), Path(self.variables["run"]))
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, check=False, env=self.environment
        )

    def modify(self, params: Mapping[str, str]) -> subprocess.CompletedProcess[str] | None:
        """Day 2: new params, the files rendered anew, then applied by the package's reload
        mode: the programs restarted, signalled, or its modify_information_end script run (its
        result returned)."""
        self.config = software_config(self.package, params)
        self.variables |= self.config.variables()
        render(self.config, self.variables)
        if self.config.reload == "script":
            return self.hook("modify_information_end")
        if self.config.reload == "signal":
            for process in self.processes.values():
                os.kill(process.pid, getattr(signal, "SIG" + self.config.reload_signal))
        else:
            for process in self.processes.values():
                self.lab.stop(process)
            self.start()
        return None

    def hook(self, operation: str) -> subprocess.CompletedProcess[str]:
        """Runs the package's script for a Vnflcm operation."""
        hook = next(h for h in self.config.hooks if h.operation == operation)
        return self.call(hook.command, hook.timeout_s)


def start_vnf(lab: Lab, package: Path, params: Mapping[str, str], workdir: Path) -> RunningVnf:
    """Renders `package` for the lab's VNF namespace with `params` and starts it."""
    config = software_config(package, params)
    root, run_dir, logs = workdir / "root", workdir / "run", workdir / "logs"
    for directory in (root, run_dir, logs):
        directory.mkdir(parents=True)
    run_dir.chmod(0o755)  # FRR and Squid switch users and still reach their sockets there
    variables = lab.variables(package.name, root, run_dir) | config.variables()
    render(config, variables)
    vnf = RunningVnf(lab, package, config, variables, logs)
    vnf.start()
    return vnf

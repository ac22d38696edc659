"""From a SOL004 package to a running program: a dnsmasq package built here, read by the
central's mapping (tosca.software: VNFD -> SoftwareConfig, params from the VNFD's inputs) and
run by the real linux driver (root, namespaces, bubblewrap, the real dnsmasq): a LAN host gets
an address from it and its DNS answers with the parameter's value; a new value (as
MODIFY_VNF_INFORMATION sets it) is re-rendered and applied by the package's reload mode."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path
from typing import Any

import anyio
import pytest

from edgewise.model.functions import config_document
from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.layout import pick_slot
from edgewise.tosca.software import read_package
from tests.site.drivers.chains import converge, desired
from tests.site.drivers.linux.software.packaged import dns_service
from tests.site.drivers.linux.software.test_dnsmasq import dhcp_host, dig, software
from tests.site.drivers.netlab import Lab

pytestmark = pytest.mark.anyio
SID = "svc-dns"  # test_dnsmasq's helpers read this service

CONF = """\
keep-in-foreground
no-resolv
no-hosts
bind-interfaces
interface=${lan_if}
listen-address=${lan_address}
pid-file=${run}/dnsmasq.pid
dhcp-range=${param_pool_start},${param_pool_end},1h
dhcp-option=option:router,${lan_gateway}
dhcp-leasefile=/var/lib/dnsmasq/leases
addn-hosts=/etc/dnsmasq/hosts
local=/blocked.example/
"""
VNFD = """\
tosca_definitions_version: tosca_simple_yaml_1_3
imports: [etsi_nfv_sol001_vnfd_types.yaml]
topology_template:
  inputs:
    pool_start: {type: string}
    pool_end: {type: string}
    allowed_ip: {type: string, default: 192.0.2.7}
  node_templates:
    dns:
      type: tosca.nodes.nfv.VNF
      metadata: {edgewise.reload: "signal:HUP"}
      properties:
        descriptor_id: dnsmasq-from-package
        descriptor_version: "1.0"
        provider: tests
        product_name: dnsmasq
        software_version: "2"
        vnfm_info: [edgewise]
        flavour_id: default
        flavour_description: DNS and DHCP for the LAN
      artifacts:
        conf: {type: tosca.artifacts.template, file: ../Files/dnsmasq.conf,
               deploy_path: etc/dnsmasq/dnsmasq.conf}
        hosts: {type: tosca.artifacts.template, file: ../Files/hosts,
                deploy_path: etc/dnsmasq/hosts}
        leases: {type: tosca.artifacts.File, file: ../Files/keep,
                 deploy_path: var/lib/dnsmasq/.keep}
    dnsmasq:
      type: tosca.nodes.nfv.Vdu.Compute
      metadata:
        edgewise.ready: udp:53
        edgewise.capabilities: NET_ADMIN NET_BIND_SERVICE NET_RAW SETUID SETGID
        edgewise.cpu_millis: "250"
      properties:
        name: dnsmasq
        description: dnsmasq
        vdu_profile: {min_number_of_instances: 1, max_number_of_instances: 1}
        boot_data: [dnsmasq, --conf-file=/etc/dnsmasq/dnsmasq.conf]
        sw_image_data:
          name: dnsmasq-base
          version: any
          checksum: {algorithm: sha-256, hash: "0"}
          container_format: bare
          disk_format: raw
          min_disk: 0 B
          size: 1 MB
          supported_virtualisation_environments: [debian-package]
      capabilities:
        virtual_compute:
          properties:
            virtual_cpu: {num_virtual_cpu: 1}
            virtual_memory: {virtual_mem_size: 64 MiB}
    lan_cp:
      type: tosca.nodes.nfv.VduCp
      properties: {layer_protocols: [ipv4], order: 0}
      requirements: [{virtual_binding: dnsmasq}]
    wan_cp:
      type: tosca.nodes.nfv.VduCp
      properties: {layer_protocols: [ipv4], order: 1}
      requirements: [{virtual_binding: dnsmasq}]
"""


def csar() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "TOSCA-Metadata/TOSCA.meta",
            "TOSCA-Meta-File-Version: 1.0\n"
            "CSAR-Version: 1.1\nEntry-Definitions: Definitions/dnsmasq.yaml\n",
        )
        archive.writestr("Definitions/dnsmasq.yaml", VNFD)
        archive.writestr("Files/dnsmasq.conf", CONF)
        archive.writestr("Files/hosts", "${param_allowed_ip} allowed.example\n")
        archive.writestr("Files/keep", "")
    return buffer.getvalue()  # fmt: skip


async def ready(driver: LinuxDriver, service: dict[str, Any], revision: int) -> dict[str, Any]:
    """Reconcile passes until the VNF is ready (bounded)."""
    state = desired(revision, service)
    deadline = time.monotonic() + 15
    while True:
        await converge(driver, state)
        status = await software(driver)
        if status["state"] == "ready" or time.monotonic() > deadline:
            assert status["state"] == "ready", status
            return status
        await anyio.sleep(0.2)


async def test_a_package_s_dnsmasq_serves_the_lan_and_takes_a_new_parameter(
    lab: Lab, swdriver: LinuxDriver, tmp_path: Path
) -> None:
    reading = read_package(csar())
    assert reading.template is not None, [str(p) for p in reading.problems]
    assert reading.refusals() == []
    base = lab.site.lan_subnet(pick_slot(SID, set(), lab.site.slots)).network_address
    given = {"pool_start": str(base + 100), "pool_end": str(base + 150)}
    params, wrong = reading.template.params(given)
    assert wrong == []
    config = config_document(reading.template.config(params))
    status = await ready(swdriver, dns_service(SID, config), 1)
    limits = status["programs"]["dnsmasq"]["limits"]
    if limits:  # a host with cgroup v1 controllers: edgewise.cpu_millis and virtual_mem_size
        assert (limits["cpu_quota_us"], limits["memory_limit_bytes"]) == (25_000, 64 << 20)
    attachment = await swdriver.attachment(SID)
    assert attachment is not None
    gateway = str(attachment.gateway.ip)
    host, leased = dhcp_host(lab, attachment.bridge, tmp_path)
    assert int(leased.rsplit(".", 1)[1]) in range(100, 151)
    assert "192.0.2.7" in dig(lab, host, gateway, "allowed.example")
    assert "NXDOMAIN" in dig(lab, host, gateway, "blocked.example")

    changed, wrong = reading.template.params({"allowed_ip": "192.0.2.9"}, params)
    assert wrong == []
    pid = (await software(swdriver))["programs"]["dnsmasq"]["pid"]
    config = config_document(reading.template.config(changed))
    status = await ready(swdriver, dns_service(SID, config), 2)
    assert "192.0.2.9" in dig(lab, host, gateway, "allowed.example")
    assert status["programs"]["dnsmasq"]["pid"] == pid  # reloaded by SIGHUP, not restarted

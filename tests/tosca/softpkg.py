"""A small SOL004 package of a third-party VNF, made in the test: a Debian package run as one
VDU with a configuration template, a reload script and two parameters (tests of tosca.software
and of the central's instantiation path build theirs from it)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping

CONFIG = """\
# written by Edgewise for ${vnf}
interface=${lan_if}
listen-address=${lan_address}
port=${param_port}
domain=${param_domain}
"""
RELOAD = '#!/bin/sh\nkill -HUP "$(cat "$RUN/pid")"\n'

VNFD = """\
tosca_definitions_version: tosca_simple_yaml_1_3
description: A DNS forwarder (dnsmasq) as a third-party VNF.
imports:
  - etsi_nfv_sol001_vnfd_types.yaml
topology_template:
  inputs:
    port:
      type: integer
      default: 53
      constraints: [{in_range: [1, 65535]}]
    domain:
      type: string
      description: the LAN's DNS domain
      required: true
  node_templates:
    dns:
      type: tosca.nodes.nfv.VNF
      metadata:
        edgewise.reload: script
      properties:
        descriptor_id: {vnfd_id}
        descriptor_version: "1.2"
        provider: Example
        product_name: DNS forwarder
        software_version: "2.89"
        vnfm_info: [edgewise]
        flavour_id: default
        flavour_description: one dnsmasq
      artifacts:
        config:
          type: tosca.artifacts.template
          file: ../Files/dnsmasq.conf
          deploy_path: etc/dnsmasq.conf
          checksum: {config_sha}
          checksum_algorithm: SHA-256
        reload:
          type: tosca.artifacts.Implementation.Bash
          file: ../Scripts/reload.sh
      interfaces:
        Vnflcm:
          modify_information_end:
            implementation: reload
    dnsmasq:
      type: tosca.nodes.nfv.Vdu.Compute
      metadata:
        edgewise.ready: udp:53
        edgewise.capabilities: NET_BIND_SERVICE
        edgewise.packages: dnsutils
      properties:
        name: dnsmasq
        description: the forwarder
        vdu_profile: {min_number_of_instances: 1, max_number_of_instances: 1}
        boot_data: {boot_data}
        sw_image_data:
          name: {image}
          version: any
          checksum: {algorithm: sha-256, hash: "0000"}
          container_format: {container}
          disk_format: {disk}
          min_disk: 0 B
          size: 1 MB
          supported_virtualisation_environments: {environments}
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
      properties: {layer_protocols: [ipv4], order: {wan_order}}
      requirements: [{virtual_binding: dnsmasq}]
"""
BOOT = '"dnsmasq --keep-in-foreground --conf-file=${root}/etc/dnsmasq.conf --pid-file=${run}/pid"'


def vnfd(**changes: str) -> str:
    """The VNFD text, with `changes` in place of its {placeholders}."""
    values = {
        "vnfd_id": "example-dns", "boot_data": BOOT, "image": "dnsmasq-base",
        "container": "bare", "disk": "raw", "environments": "[debian-package]",
        "config_sha": hashlib.sha256(CONFIG.encode()).hexdigest(), "wan_order": "1",
    } | changes  # fmt: skip
    text = VNFD
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def package(
    text: str | None = None,
    files: Mapping[str, str | None] | None = None,
    manifest: str | None = None,
) -> bytes:
    """The CSAR zip: TOSCA.meta, the VNFD, its files (`files` replace, add or with None
    remove them)."""
    members: dict[str, str | None] = {
        "TOSCA-Metadata/TOSCA.meta": "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\n"
        "Created-By: tests\nEntry-Definitions: Definitions/vnfd.yaml\n"
        + ("ETSI-Entry-Manifest: vnfd.mf\n" if manifest is not None else ""),
        "Definitions/vnfd.yaml": vnfd() if text is None else text,
        "Files/dnsmasq.conf": CONFIG,
        "Scripts/reload.sh": RELOAD,
    }
    members.update(files or {})
    if manifest is not None:
        members["vnfd.mf"] = manifest
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            if content is not None:
                archive.writestr(name, content)
    return buffer.getvalue()

"""The deviations from the letter of SOL001 that the loader tolerates: each one is reported as a
positioned warning (an error under strict loading) and provably changes nothing that is deployed.

The checks that find them (values.py, topology.py) name one of these; README.md lists them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Deviation:
    """One tolerated deviation: its stable problem code, what it is and why it is safe."""

    code: str
    what: str
    why_safe: str


MISSING_DESCRIPTION = Deviation(
    "deviation.missing-description",
    "a required `description` (a string) is missing, e.g. on a tosca.groups.nfv.PlacementGroup "
    "or a tosca.nodes.nfv.Vdu.Compute",
    "a description is text for people: no check, placement or data-plane setting reads it, "
    "and the descriptions that reach a site (Edgewise function configs) are optional anyway",
)
DANGLING_SUBSTITUTION_MAPPING = Deviation(
    "deviation.dangling-substitution-mapping",
    "a requirement or capability of substitution_mappings is mapped to a node template the "
    "topology does not have",
    "Edgewise reads only node_type and properties of substitution_mappings; a mapping that "
    "points at no node template maps nothing, and the loaded descriptor is the same without it",
)
TOLERATED = (MISSING_DESCRIPTION, DANGLING_SUBSTITUTION_MAPPING)

TOLERATED_NOTE = "tolerated, as it changes nothing deployed; strict loading refuses it"

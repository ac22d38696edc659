"""SOL005 ScaleNsRequest's `scaleVnfData` (scaleType SCALE_VNF) read into the steps the
orchestrator makes (orchestrator.scaling_vnf); a malformed entry is a 400 naming its field."""

from __future__ import annotations

from edgewise.central.orchestrator.scaling_vnf import VnfScaleStep
from edgewise.central.services.errors import InputProblem, Invalid, Unprocessable

MAX_ENTRIES = 16  # VNFs scaled in one request (an NS has at most 16 VNFs at a site)
MAX_STEPS = 64
WHERE = "scaleVnfData"


def scale_vnf_steps(value: object) -> list[VnfScaleStep]:
    """The steps of `scaleVnfData`: each {vnfInstanceId, scaleVnfType SCALE_OUT | SCALE_IN,
    scaleByStepData {aspectId, numberOfSteps (default 1)}}."""
    if not isinstance(value, list) or not value:
        raise Invalid("the scaling is not valid",
                      [InputProblem(WHERE, "SCALE_VNF needs a non-empty array")])  # fmt: skip
    if len(value) > MAX_ENTRIES:
        too_many = InputProblem(WHERE, f"{len(value)} entries: at most {MAX_ENTRIES}")
        raise Invalid("the scaling is not valid", [too_many])
    steps, problems, unsupported = [], [], []
    for index, item in enumerate(value):
        at = f"{WHERE}[{index}]"
        if not isinstance(item, dict):
            problems.append(InputProblem(at, "expected an object"))
            continue
        vnf, kind, data = (
            item.get("vnfInstanceId"),
            item.get("scaleVnfType"),
            item.get("scaleByStepData"),
        )
        if not isinstance(vnf, str) or not vnf:
            problems.append(InputProblem(f"{at}.vnfInstanceId", "the VNF's id in the NS "
                                         "(vnfInstance[].id): a non-empty string"))  # fmt: skip
        if kind in ("SCALE_TO_INSTANTIATION_LEVEL", "SCALE_TO_SCALE_LEVEL(S)"):
            why = f"{kind}: Edgewise scales a VNF by steps; give SCALE_OUT or SCALE_IN"
            unsupported.append(InputProblem(f"{at}.scaleVnfType", why))
            continue
        if kind not in ("SCALE_OUT", "SCALE_IN"):
            problems.append(InputProblem(f"{at}.scaleVnfType", "SCALE_OUT or SCALE_IN"))
        if not isinstance(data, dict):
            problems.append(InputProblem(f"{at}.scaleByStepData", "expected an object with "
                                         "aspectId and numberOfSteps"))  # fmt: skip
            continue
        aspect, number = data.get("aspectId"), data.get("numberOfSteps", 1)
        if not isinstance(aspect, str) or not aspect:
            problems.append(InputProblem(f"{at}.scaleByStepData.aspectId", "a non-empty string"))
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_STEPS:
            problems.append(InputProblem(f"{at}.scaleByStepData.numberOfSteps",
                                         f"an integer from 1 to {MAX_STEPS}"))  # fmt: skip
            continue
        if isinstance(vnf, str) and vnf and isinstance(aspect, str) and aspect:
            signed = number if kind == "SCALE_OUT" else -number
            steps.append(VnfScaleStep(vnf, aspect, signed, at))
    if problems:
        raise Invalid("the scaling is not valid", problems)
    if unsupported:
        raise Unprocessable("this scaling is not supported", unsupported)
    return steps

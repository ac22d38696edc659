"""The request bodies of SOL005 NS performance management (`nspm/v1`, SOL005 v2.6.1) and the
documents it answers with: PmJob, PerformanceReport, Threshold."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from edgewise.central.services.pm_jobs import PmJob, Report
from edgewise.central.services.pm_metrics import NS
from edgewise.central.services.pm_objects import href
from edgewise.central.services.pm_thresholds import Threshold

TENANT_ID = Field(
    default=None, description="Edgewise: the owning tenant (admins only; none = the operator's)"
)
OBJECT_TYPE = Field(
    default=NS,
    description="Edgewise extension (SOL005 v3 has it): NS (NS instances), or SITE (sites, for "
    "their WAN links' figures)",
)


class PmJobCriteria(BaseModel):
    """SOL005 PmJobCriteria."""

    model_config = ConfigDict(extra="forbid")
    performanceMetric: list[str] = Field(default_factory=list, max_length=100)
    performanceMetricGroup: list[str] = Field(default_factory=list, max_length=100)
    collectionPeriod: int
    reportingPeriod: int
    reportingBoundary: datetime | None = None


class CreatePmJobRequest(BaseModel):
    """SOL005 CreatePmJobRequest."""

    model_config = ConfigDict(extra="forbid")
    objectType: str = OBJECT_TYPE
    objectInstanceIds: list[str] = Field(max_length=1000)
    criteria: PmJobCriteria
    tenantId: str | None = TENANT_ID


class SimpleThresholdDetails(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thresholdValue: float
    hysteresis: float


class ThresholdCriteria(BaseModel):
    """SOL005 ThresholdCriteria."""

    model_config = ConfigDict(extra="forbid")
    performanceMetric: str = Field(max_length=128)
    thresholdType: str
    simpleThresholdDetails: SimpleThresholdDetails | None = None


class CreateThresholdRequest(BaseModel):
    """SOL005 CreateThresholdRequest."""

    model_config = ConfigDict(extra="forbid")
    objectType: str = OBJECT_TYPE
    objectInstanceId: str = Field(max_length=36)
    criteria: ThresholdCriteria
    tenantId: str | None = TENANT_ID


def pm_job(job: PmJob, base: str) -> dict[str, Any]:
    """SOL005 PmJob (with Edgewise's objectType and tenantId); `reports` when there are any."""
    self_href = f"{base}nspm/v1/pm_jobs/{job.id}"
    document: dict[str, Any] = {
        "id": job.id,
        "objectType": job.object_type,
        "objectInstanceIds": list(job.object_ids),
        "criteria": dict(job.criteria),
        "tenantId": job.tenant_id,
        "_links": {
            "self": {"href": self_href},
            "objects": [_absolute(base, href(job.object_type, o)) for o in job.object_ids],
        },
    }
    if job.reports:
        document["reports"] = [
            {"href": f"{self_href}/reports/{report.id}", "readyTime": time(report.ready_at)}
            for report in job.reports
        ]
    return document


def performance_report(report: Report) -> dict[str, Any]:
    return {"entries": [dict(entry) for entry in report.entries]}


def threshold(found: Threshold, base: str) -> dict[str, Any]:
    details = {"thresholdValue": found.value, "hysteresis": found.hysteresis}
    return {
        "id": found.id,
        "objectType": found.object_type,
        "objectInstanceId": found.object_id,
        "criteria": {
            "performanceMetric": found.metric,
            "thresholdType": "SIMPLE",
            "simpleThresholdDetails": details,
        },
        "tenantId": found.tenant_id,
        "_links": {
            "self": {"href": f"{base}nspm/v1/thresholds/{found.id}"},
            "object": _absolute(base, href(found.object_type, found.object_id)),
        },
    }


def _absolute(base: str, link: dict[str, str]) -> dict[str, str]:
    return {"href": base.rstrip("/") + link["href"]}


def time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

"""SOL005 NS performance management (`nspm/v1`, SOL005 v2.6.1): PM jobs and their reports,
thresholds, and PM subscriptions (the shared SOL005 ones, api.subscriptions). What Edgewise
measures is `services.pm_metrics`; the tracker collects, reports and judges thresholds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from edgewise.central.api.deps import CallerDep, PageDep, SessionDep
from edgewise.central.api.listing import sol013_listing
from edgewise.central.api.nspm_schemas import (
    CreatePmJobRequest,
    CreateThresholdRequest,
    performance_report,
    pm_job,
    threshold,
)
from edgewise.central.api.subscriptions import (
    SubscriptionRequest,
    SubscriptionResource,
    subscription_router,
)
from edgewise.central.services import pm_jobs, pm_notifications, pm_thresholds
from edgewise.central.services.subscriptions import Api

router = APIRouter(prefix="/nspm/v1", tags=["SOL005 NS performance management"])
PmJobId = Annotated[str, Path(alias="pmJobId")]
ReportId = Annotated[str, Path(alias="reportId")]
ThresholdId = Annotated[str, Path(alias="thresholdId")]
JOB_FIELDS = {"id", "objectType", "objectInstanceIds", "criteria", "reports", "tenantId", "_links"}
JOB_DEFAULT_EXCLUDED = ("reports",)  # SOL005 7.4.2.3.2: lists leave it out unless asked
THRESHOLD_FIELDS = {"id", "objectType", "objectInstanceId", "criteria", "tenantId", "_links"}


@router.post("/pm_jobs", status_code=201, operation_id="createPmJob")
def create_pm_job(
    body: CreatePmJobRequest, request: Request, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    criteria = body.criteria
    asked = pm_jobs.JobRequest(
        object_type=body.objectType, object_ids=body.objectInstanceIds,
        metrics=criteria.performanceMetric, groups=criteria.performanceMetricGroup,
        collection_period=criteria.collectionPeriod, reporting_period=criteria.reportingPeriod,
        reporting_boundary=criteria.reportingBoundary, tenant_id=body.tenantId,
    )  # fmt: skip
    document = pm_job(pm_jobs.create(session, caller, asked), str(request.base_url))
    return JSONResponse(document, status_code=201,
                        headers={"Location": document["_links"]["self"]["href"]})  # fmt: skip


@router.get("/pm_jobs", operation_id="listPmJobs")
def list_pm_jobs(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep
) -> JSONResponse:
    base = str(request.base_url)
    documents = [pm_job(job, base) for job in pm_jobs.list_visible(session, caller)]
    return sol013_listing(request, documents, page, JOB_FIELDS, JOB_DEFAULT_EXCLUDED)


@router.get("/pm_jobs/{pmJobId}", operation_id="readPmJob")
def read_pm_job(
    pm_job_id: PmJobId, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    return pm_job(pm_jobs.read(session, caller, pm_job_id), str(request.base_url))


@router.delete("/pm_jobs/{pmJobId}", status_code=204, operation_id="deletePmJob")
def delete_pm_job(pm_job_id: PmJobId, session: SessionDep, caller: CallerDep) -> Response:
    pm_jobs.delete(session, caller, pm_job_id)
    return Response(status_code=204)


@router.get("/pm_jobs/{pmJobId}/reports/{reportId}", operation_id="readPerformanceReport")
def read_report(
    pm_job_id: PmJobId, report_id: ReportId, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    return performance_report(pm_jobs.read_report(session, caller, pm_job_id, report_id))


@router.post("/thresholds", status_code=201, operation_id="createThreshold")
def create_threshold(
    body: CreateThresholdRequest, request: Request, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    details = body.criteria.simpleThresholdDetails
    asked = pm_thresholds.ThresholdRequest(
        object_type=body.objectType, object_id=body.objectInstanceId,
        metric=body.criteria.performanceMetric, threshold_type=body.criteria.thresholdType,
        value=details.thresholdValue if details else None,
        hysteresis=details.hysteresis if details else None, tenant_id=body.tenantId,
    )  # fmt: skip
    made = pm_thresholds.create(session, caller, asked)
    document = threshold(made, str(request.base_url))
    return JSONResponse(document, status_code=201,
                        headers={"Location": document["_links"]["self"]["href"]})  # fmt: skip


@router.get("/thresholds", operation_id="listThresholds")
def list_thresholds(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep
) -> JSONResponse:
    base = str(request.base_url)
    documents = [threshold(t, base) for t in pm_thresholds.list_visible(session, caller)]
    return sol013_listing(request, documents, page, THRESHOLD_FIELDS)


@router.get("/thresholds/{thresholdId}", operation_id="readThreshold")
def read_threshold(
    threshold_id: ThresholdId, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    return threshold(pm_thresholds.read(session, caller, threshold_id), str(request.base_url))


@router.delete("/thresholds/{thresholdId}", status_code=204, operation_id="deleteThreshold")
def delete_threshold(threshold_id: ThresholdId, session: SessionDep, caller: CallerDep) -> Response:
    pm_thresholds.delete(session, caller, threshold_id)
    return Response(status_code=204)


class PmSubscriptionRequest(SubscriptionRequest):
    """SOL005 PmSubscriptionRequest (filter: PmNotificationsFilter)."""


router.include_router(
    subscription_router(
        SubscriptionResource(
            api=Api.NSPM,
            name="PmSubscription",
            request=PmSubscriptionRequest,
            check_filter=pm_notifications.validate_filter,
        )
    )
)

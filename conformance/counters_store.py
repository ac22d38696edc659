"""Records a site's counters report in the central's store through the central's own site
channel (`site_channel.record_reports`, what the southbound does with one): the simulated sites
of a conformance run count nothing, and PM jobs report only what was counted. `pm_fixtures.py`
runs this with the project's interpreter (it imports Edgewise, which the suites' venv has not):

    python -m conformance.counters_store STORE_URL SITE_ID < body.json

The body is a counters report's (`{"services": {NS id: {VNF name: {"rules": ...}}}}`).
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from edgewise.central.services.site_channel import ReportItem, record_reports
from edgewise.central.store.engine import open_engine


def record(url: str, site_id: str, body: dict[str, Any]) -> None:
    engine = open_engine(url)
    try:
        item = ReportItem(f"conformance-{uuid.uuid4().hex}", "counters", datetime.now(UTC), body)
        with Session(engine) as session, session.begin():
            record_reports(session, site_id, [item])
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: python -m conformance.counters_store STORE_URL SITE_ID < body\n")
        return 2
    record(argv[0], argv[1], json.load(sys.stdin))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

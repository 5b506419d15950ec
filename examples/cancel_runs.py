"""The README's walkthrough: one operation of the LangSmith spec implemented, `POST /runs/cancel`.

Runs live in memory here; `service/` is the full implementation on SQLite. Serve with
`uvicorn examples.cancel_runs:app --port 2024`; every other operation answers 501.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from langsmith_deployment import ApiError, create_app, models
from pydantic import MISSING

Action = models.CancelRunsPostAction


class Runs:
    """Cancels runs kept in memory: {run_id: (thread_id, status)}."""

    def __init__(self) -> None:
        thread = uuid4()
        self.runs: dict[UUID, tuple[UUID, str]] = {uuid4(): (thread, "pending"), uuid4(): (thread, "running")}

    async def cancel_runs_post(self, *, body: models.RunsCancel, action: Action = Action.interrupt) -> None:
        if body.status is not MISSING:
            wanted = {"pending", "running"} if body.status is models.RunsCancelStatus.all else {body.status.value}
            matched = [rid for rid, (_, status) in self.runs.items() if status in wanted]
        else:
            assert body.thread_id is not MISSING and body.run_ids is not MISSING  # the spec's oneOf
            matched = [rid for rid in body.run_ids if self.runs.get(rid, (None, ""))[0] == body.thread_id]
            matched = [rid for rid in matched if self.runs[rid][1] in ("pending", "running")]
        if not matched:
            raise ApiError(404, "no pending or running run matched")
        for rid in matched:
            if action is Action.rollback:
                del self.runs[rid]
            else:
                self.runs[rid] = (self.runs[rid][0], "interrupted")


app = create_app(Runs())

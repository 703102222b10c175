"""A batch report as a tool answer: totals, a sample table of at most 50 rows, and one line of text."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from domain.system_agent.batch import BatchReport
from mcp_server.budget import fit

Verbosity = Literal["summary", "detailed"]
COLUMNS = ["index", "status", "reservation_id", "wa_id", "action", "date", "time_slot", "error"]


class BatchAnswer(BaseModel):
    """Also: tool, mode, items_truncated, errors (code: sentence), undone_batch_id, truncated."""

    model_config = ConfigDict(extra="allow")

    batch_id: str | None = None
    status: str
    message: str
    summary: dict[str, Any]
    sample: dict[str, Any] | None = None
    items: list[dict[str, Any]] | None = None
    confirmation: dict[str, Any] | None = None
    next_step: str | None = None


def batch_answer(report: BatchReport, verbosity: Verbosity) -> dict[str, Any]:
    """The structured answer: every item when detailed, else a compact sample within the size budget."""
    data = report.to_dict(verbosity)
    if verbosity == "detailed":
        return data
    rows = data.pop("items")
    data["sample"] = {"columns": COLUMNS, "rows": [_row(r) for r in rows]}
    errors = {r["error"]["code"]: r["error"]["message"] for r in rows if r.get("error")}
    data["errors"] = errors or None
    return fit(data)


def _row(item: dict[str, Any]) -> list[Any]:
    error = item.get("error")
    values = {**item, "error": error["code"] if error else None}
    return [values.get(column) for column in COLUMNS]


def with_next_step(data: dict[str, Any], tool: str) -> dict[str, Any]:
    """A needs_confirmation answer tells the model exactly what to do next."""
    token = (data.get("confirmation") or {}).get("token")
    if data["status"] == "needs_confirmation" and token:
        data["next_step"] = (
            "Nothing was written. Show this preview to the user and wait for their answer. Only if they confirm, "
            f"call {tool} again with exactly the same arguments plus confirmation_token={token}.")
    return data


def declined_answer(tool: str, mode: str, ar: bool) -> dict[str, Any]:
    """The user said no (or dismissed the question): nothing changed, and no token is handed out."""
    message = "ألغى المستخدم العملية؛ لم يتغير شيء." if ar else "Cancelled by the user; nothing was changed."
    return {"batch_id": None, "tool": tool, "status": "cancelled", "mode": mode, "message": message,
            "summary": {}, "confirmation": None}


def batch_line(data: dict[str, Any]) -> str:
    """One line for people: the outcome, the batch id, and the next step when one is needed."""
    parts = [data["message"]]
    if data.get("batch_id"):
        parts.append(f"batch_id={data['batch_id']}.")
    if data.get("next_step"):
        parts.append(data["next_step"])
    return " ".join(parts)

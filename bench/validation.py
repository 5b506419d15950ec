"""Cost of validating a `POST /runs/cancel` body: the generated model (exact JSON Schema check,
then Pydantic) against a plain Pydantic model of the same fields (no oneOf, no exact formats).

Run: `.venv/bin/python bench/validation.py`. Prints the median cost per validation in
microseconds over several runs and the ratio of the two; for scale, also the generated check
alone and the reference validator (`jsonschema`, Draft 2020-12 with format checking) the check
is compiled to agree with.
"""

from __future__ import annotations

import statistics
import sys
import timeit
import uuid
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generated"))

from langsmith_deployment import _spec, models


class PlainRunsCancel(BaseModel):
    """RunsCancel as one would write it by hand: the same fields, none of the spec's rules."""

    status: Literal["pending", "running", "all"] | None = None
    thread_id: uuid.UUID | None = None
    run_ids: list[uuid.UUID] | None = None


BODIES = {
    "by status": {"status": "all"},
    "by ids": {"thread_id": str(uuid.UUID(int=1)), "run_ids": [str(uuid.UUID(int=n)) for n in range(2, 5)]},
}
RUNS = 7


def per_call(function: object, body: object, number: int) -> float:
    """Median microseconds per call over RUNS runs of `number` calls."""
    timer = timeit.Timer(lambda: function(body))  # type: ignore[operator]
    return statistics.median(t / number * 1e6 for t in timer.repeat(repeat=RUNS, number=number))


def reference_validator() -> object:
    from codegen.runtime.schema import normalize_document
    from jsonschema import Draft202012Validator

    document = normalize_document(_spec.DOCUMENT, _spec.OPENAPI_VERSION)
    schema = {**document, "$ref": "#/components/schemas/RunsCancel"}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def main() -> None:
    check = models.RunsCancel.__schema_check__
    reference = reference_validator()
    print(f"validation of a RunsCancel body, median of {RUNS} runs (microseconds per validation)")
    print(f"{'body':<10} {'generated':>10} {'plain':>8} {'ratio':>6} {'check alone':>12} {'jsonschema':>11}")
    for label, body in BODIES.items():
        assert models.RunsCancel.model_validate(body) and PlainRunsCancel.model_validate(body)
        generated = per_call(models.RunsCancel.model_validate, body, 20_000)
        plain = per_call(PlainRunsCancel.model_validate, body, 20_000)
        alone = per_call(check, body, 20_000)
        slow = per_call(reference.is_valid, body, 500)  # type: ignore[attr-defined]
        print(f"{label:<10} {generated:>10.2f} {plain:>8.2f} {generated / plain:>6.2f} {alone:>12.2f} {slow:>11.1f}")


if __name__ == "__main__":
    main()

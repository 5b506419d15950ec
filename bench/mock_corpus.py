"""Mock synthesis over APIs-guru's directory: how long the mock takes to find the body of every
success response of every document, and how often it finds no valid one within its budget.

    .venv/bin/python bench/mock_corpus.py [--every N] [--jobs N] [--limit SECONDS]

Each document is synthesized in a child process (as a generated app's mock would: the same
verifier, one `Shapes` per document), killed after `--limit` seconds. Prints the slowest
documents and a summary; a document that is killed is a bound that does not hold.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.directory import api_dir, documents

CHILD = r"""
import json, sys, time
from codegen.runtime.dialect import for_direction, normalize_document
from codegen.runtime.mock import Shapes, Synthesizer
from codegen.runtime.params import SchemaStore
from codegen.runtime.verify import mock_validator

document = json.load(open(sys.argv[1], encoding="utf-8"))
normalized = normalize_document(document, "3.0" if str(document.get("openapi", "")).startswith("3.0") else "3.1")
store = SchemaStore(normalized)
validator = mock_validator(for_direction(normalized, "response"))
validators = {}

def is_valid(schema, value):
    found = validators.get(id(schema))
    if found is None or found[0] is not schema:
        found = validators[id(schema)] = (schema, validator.evolve(schema=schema))
    try:
        return bool(found[1].is_valid(value))
    except Exception:
        return False

shapes = Shapes(store.resolve)
count = invalid = 0
worst, where = 0.0, ""
for path, item in (normalized.get("paths") or {}).items():
    item = store.resolve(item)
    for method, operation in (item.items() if isinstance(item, dict) else ()):
        if method not in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
            continue
        for status, response in ((operation or {}).get("responses") or {}).items():
            response = store.resolve(response)
            if not str(status).startswith("2") or not isinstance(response, dict):
                continue
            media = next((m for m in (response.get("content") or {}).values() if isinstance(m, dict) and "schema" in m), None)
            if media is None:
                continue
            start = time.monotonic()
            _, valid = Synthesizer(store.resolve, is_valid, operation.get("operationId", ""), shapes=shapes).find(media["schema"])
            took = time.monotonic() - start
            count += 1
            invalid += not valid
            if took > worst:
                worst, where = took, f"{method.upper()} {path} {status}"
print(json.dumps({"responses": count, "invalid": invalid, "worst": round(worst, 3), "where": where}))
"""


def measure(document: Path, limit: float) -> dict[str, object]:
    start = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, str(document)], check=False, capture_output=True, text=True, timeout=limit, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"killed": True, "seconds": limit}
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["no output"], "seconds": time.monotonic() - start}
    return {**json.loads(lines[-1]), "seconds": round(time.monotonic() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=int, default=1, help="take every Nth document (default: all)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=float, default=300.0, help="seconds a document may take (all its bodies)")
    args = parser.parse_args()
    api = api_dir()
    chosen = documents(api)[:: args.every]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = dict(zip(chosen, pool.map(lambda d: measure(api / d, args.limit), chosen), strict=True))
    measured = {d: r for d, r in results.items() if "responses" in r}
    slowest = sorted(measured.items(), key=lambda item: -float(item[1]["worst"]))[:10]  # type: ignore[arg-type]
    print("slowest bodies:")
    for name, result in slowest:
        print(f"  {result['worst']:6.3f} s  {name}: {result['where']}")
    killed = [d for d, r in results.items() if r.get("killed")]
    failed = {d: r["error"] for d, r in results.items() if "error" in r}
    print(
        f"{len(chosen)} documents, {sum(int(r['responses']) for r in measured.values())} success bodies "  # type: ignore[call-overload]
        f"({sum(int(r['invalid']) for r in measured.values())} without a valid one within budget); "  # type: ignore[call-overload]
        f"slowest {max((float(r['worst']) for r in measured.values()), default=0):.3f} s; "  # type: ignore[arg-type]
        f"killed after {args.limit:.0f} s: {len(killed)} {killed}; not read: {len(failed)} {sorted(failed)}"
    )
    raise SystemExit(1 if killed else 0)


if __name__ == "__main__":
    main()

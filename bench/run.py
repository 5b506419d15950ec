"""`make bench`: generation speed and memory against datamodel-code-generator, request cost,
validation cost, and (when present) the reference service's load and crash tests.

Every figure is the median of several runs, measured in this process tree on this machine; the
ratios compare runs made here, one after the other. Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))


def run_measured(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Run `cmd`; (wall seconds, peak RSS in MB of the process tree, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, proc.returncode


def median_of(runs: int, cmd: list[str], cwd: Path, prepare: object = None) -> tuple[float, float]:
    walls, peaks = [], []
    for _ in range(runs):
        if callable(prepare):
            prepare()
        wall, peak, _ = run_measured(cmd, cwd)
        walls.append(wall)
        peaks.append(peak)
    return statistics.median(walls), statistics.median(peaks)


def project(tmp: Path, spec: Path, name: str) -> Path:
    """A throwaway project folder holding `spec` (and nothing generated yet)."""
    folder = tmp / name
    (folder / "spec").mkdir(parents=True)
    shutil.copy(spec, folder / "spec" / spec.name)
    (folder / "pyproject.toml").write_text(f'[tool.codegen]\nspec = "spec/{spec.name}"\nout = "generated"\n')
    return folder


def bench_generation(label: str, spec: Path, runs: int, tmp: Path) -> dict[str, float | bool]:
    folder = project(tmp, spec, label)
    codegen = [str(BIN / "codegen")]
    cache = folder / ".codegen-cache"
    out = folder / "generated"

    def cold() -> None:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)

    models_out = tmp / f"{label}-dmcg-models.py"
    dmcg = [str(BIN / "datamodel-codegen"), "--input", str(spec), "--input-file-type", "openapi", "--output", str(models_out)]
    # Ours and datamodel-codegen's runs alternate, so both meet the same load of the machine.
    full, models = [], []
    for _ in range(runs):
        full.append(median_of(1, [*codegen, "generate", "--quiet"], folder, prepare=cold))
        models.append(median_of(1, dmcg, folder))
    full_wall, full_peak = (statistics.median(x) for x in zip(*full, strict=True))
    dm_wall, dm_peak = (statistics.median(x) for x in zip(*models, strict=True))
    warm_wall, warm_peak = median_of(runs, [*codegen, "generate", "--quiet"], folder)
    check_wall, _ = median_of(runs, [*codegen, "check", "--quiet"], folder)
    result = {
        "full_s": full_wall,
        "full_peak_mb": full_peak,
        "unchanged_s": warm_wall,
        "unchanged_peak_mb": warm_peak,
        "check_s": check_wall,
        "dmcg_models_s": dm_wall,
        "dmcg_models_peak_mb": dm_peak,
    }
    print(f"\n== generation: {label} ({spec.name}), median of {runs} runs, {os.cpu_count()} cores")
    print(f"  full generation        {full_wall:8.2f} s  peak {full_peak:7.0f} MB")
    print(f"  unchanged spec         {warm_wall:8.2f} s  peak {warm_peak:7.0f} MB  ({warm_wall / full_wall:.1%} of full)")
    print(f"  codegen check (warm)   {check_wall:8.2f} s")
    print(f"  datamodel-codegen CLI  {dm_wall:8.2f} s  peak {dm_peak:7.0f} MB  (models only, its default formatters)")
    print(f"  ratio full / dmcg      {full_wall / dm_wall:8.2f}    memory ratio {full_peak / dm_peak:.2f}")
    if spec.suffix == ".json":
        result.update(bench_edits(folder, spec.name, runs, full_wall))
    return result


def _edits(document: dict[str, object], mark: int = 0) -> dict[str, dict[str, object]]:
    """The edits a developer makes between two regenerations, each applied to a copy of
    `document`; `mark` makes each round's edit one no earlier round made (a new description, a
    new property, a new operation), so that no round finds the schemas it edits rendered."""
    import copy

    schemas: dict[str, dict[str, object]] = document["components"]["schemas"]  # type: ignore[index]
    text = json.dumps(document)
    widest = max(schemas, key=lambda name: text.count(f'"#/components/schemas/{name}"'))
    described = copy.deepcopy(document)
    first = min(schemas)
    described["components"]["schemas"][first]["description"] = f"Edited by the benchmark ({mark})."  # type: ignore[index]
    widened = copy.deepcopy(document)
    widened["components"]["schemas"][widest].setdefault("properties", {})[f"benchAdded{mark}"] = {"type": "string"}  # type: ignore[index]
    operation = copy.deepcopy(document)
    operation["paths"][f"/bench-added-{mark}/{{item_id}}"] = {  # type: ignore[index]
        "get": {
            "operationId": f"bench_added_get_{mark}",
            "parameters": [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{first}"}}}}},
        }
    }
    return {
        f"one schema's description edited ({first})": described,
        f"a property added to the most referenced schema ({widest})": widened,
        "one operation added": operation,
    }


def bench_edits(folder: Path, name: str, runs: int, full_wall: float) -> dict[str, float | bool]:
    """Regeneration after an edit, the cache warm from the spec before it (issue: an edit should
    cost what the edit costs, not a full run)."""
    spec = folder / "spec" / name
    original = spec.read_text()
    codegen = [str(BIN / "codegen")]
    results: dict[str, float | bool] = {}
    failed_identity: list[str] = []
    rounds = iter(range(1_000_000))
    for label in _edits(json.loads(original)):

        def warm_then_edit(label: str = label) -> None:
            spec.write_text(original)
            run_measured([*codegen, "generate", "--quiet"], folder)
            # An edit of its own each round: a round must never find what it edits rendered
            # (the schema's models, the operation) by an earlier round.
            spec.write_text(json.dumps(_edits(json.loads(original), next(rounds))[label]))

        wall, peak = median_of(runs, [*codegen, "generate", "--quiet"], folder, prepare=warm_then_edit)
        incremental = _tree(folder / "generated")
        # The incremental output against a cold run of the same edited spec, in a folder of its own.
        cold = folder.parent / f"{folder.name}-cold"
        shutil.rmtree(cold, ignore_errors=True)
        (cold / "spec").mkdir(parents=True)
        shutil.copy(spec, cold / "spec" / name)
        check, _ = median_of(runs, [*codegen, "check", "--quiet"], folder, prepare=warm_then_edit)
        shutil.copy(folder / "pyproject.toml", cold / "pyproject.toml")
        run_measured([*codegen, "generate", "--quiet", "--no-cache"], cold)
        same = _tree(cold / "generated") == incremental
        results[f"edit: {label}"] = wall
        results[f"edit: {label}: check"] = check
        results[f"edit: {label}: identical to a cold run"] = same
        print(
            f"  after {label}: generate {wall:6.2f} s ({wall / full_wall:.0%} of full), check {check:6.2f} s "
            f"({check / full_wall:.0%}), peak {peak:5.0f} MB, output {'identical to' if same else 'DIFFERENT FROM'} a cold run"
        )
        if not same:
            failed_identity.append(label)
    spec.write_text(original)
    if failed_identity:
        raise SystemExit(f"bench: incremental output differs from a cold run after: {', '.join(failed_identity)}")
    return results


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large-runs", type=int, default=3)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-service", action="store_true")
    parser.add_argument("--large-only", action="store_true", help="the large spec's generation only (edits included)")
    args = parser.parse_args()
    # The commands run as an installed tool runs: Python keeps their modules' bytecode (pip
    # compiles an installed package's; an editable install writes it on first import). A shell
    # that sets PYTHONDONTWRITEBYTECODE would have every run compile the generator first.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="codegen-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if not args.large_only:
            results["spec"] = bench_generation("spec", ROOT / "spec" / "openapi.yaml", args.runs, tmp)
        if not args.skip_large:
            import make_large_spec

            large = tmp / "large" / "openapi.json"
            large.parent.mkdir()
            large.write_text(json.dumps(make_large_spec.build(18)))
            results["large"] = bench_generation("large", large, args.large_runs, tmp)
    failed = []
    for extra in ("request_cost", "validation", "service_load", "service_cluster", "service_streams"):
        if (extra.startswith("service_") and args.skip_service) or args.large_only:
            continue
        script = ROOT / "bench" / f"{extra}.py"
        if script.exists():
            print(f"\n== {extra}")
            if subprocess.run([sys.executable, str(script)], cwd=ROOT, check=False).returncode != 0:
                failed.append(extra)
    (ROOT / "bench-results").mkdir(exist_ok=True)
    (ROOT / "bench-results" / "generation.json").write_text(json.dumps(results, indent=2))
    if failed:
        sys.exit(f"bench: {', '.join(failed)} failed (see above)")


if __name__ == "__main__":
    main()

"""The `codegen` command: generate, check, mock.

Exit codes: 0 ok; 1 `check` found differences; 2 a bad spec or bad usage (one paragraph per
problem, no traceback unless --debug).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config, load_config
from .errors import GeneratedCodeError, Problem, SpecError, SpecErrors, SpecWarning, UsageError
from .process import discard_early_worker

if TYPE_CHECKING:
    from .cache import Cache, Store

EXIT_OK, EXIT_DIFF, EXIT_BAD = 0, 1, 2
SMALL_SPEC = 512 * 1024  # bytes of a spec file rendered in one process unless --jobs says otherwise


class Timings:
    """Per-stage wall times (printed with --verbose) and, on a terminal, a progress line for
    runs that take more than a second."""

    DELAY = 1.0

    def __init__(self, progress: bool = False) -> None:
        self.stages: list[tuple[str, float]] = []
        self.store: tuple[Store, Cache] | None = None  # reported by --verbose
        self.progress = progress
        self.started = time.perf_counter()
        self.current = ""
        self.shown = False
        self._timer: threading.Timer | None = None
        if progress:
            self._timer = threading.Timer(self.DELAY, self._show)
            self._timer.daemon = True
            self._timer.start()

    def _show(self) -> None:
        self.shown = True
        if self.current:
            sys.stderr.write(f"\r\033[Kcodegen: {self.current}...")
            sys.stderr.flush()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        self.current = name
        if self.shown:
            self._show()
        try:
            yield
        finally:
            self.stages.append((name, time.perf_counter() - start))

    def done(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def spec_label(config: Config) -> str:
    try:
        return config.spec.relative_to(config.root).as_posix()
    except ValueError:
        return config.spec.name


def build_files(
    config: Config, timings: Timings | None = None, *, use_cache: bool = True, jobs: int | None = None, compile_files: bool = True
) -> tuple[str, dict[str, str], tuple[SpecWarning, ...]]:
    """Load, build the IR and render: (package name, files, warnings). Raises SpecError(s).

    Warnings are the rules the spec breaks that generation worked around (`config.lenient`).
    An unchanged spec (same files, options and generator) is served from the cache. `jobs`
    worker processes render (default: one per core, none for a spec file under SMALL_SPEC);
    any number gives the same files. Without `compile_files` (`codegen check`), the files are
    not compiled, and not kept as a whole package in the cache (`generate` serves those).
    """
    from .cache import Cache, Store

    require_spec(config)
    timings = timings or Timings()
    store = Store(config.root / ".codegen-cache") if use_cache else None
    cache = Cache(config.root / ".codegen-cache", store)
    options = {
        **config.render_options(),
        "label": spec_label(config),
        "allow_ref_dirs": [str(d) for d in config.allow_ref_dirs],
    }
    key = ""
    if use_cache:
        with timings.stage("cache"):
            key = cache.key(config.spec, options)
            hit = cache.get(key)
        if hit is not None:
            discard_early_worker()
            return hit
    from .render.parallel import Workers, discard_early

    if jobs is None and config.spec.stat().st_size < SMALL_SPEC:
        jobs = 1  # starting worker processes would cost more than they save
    if jobs == 1:
        discard_early()  # its imports would only compete with this process's
    with Workers(jobs) as workers:
        workers.start()  # the workers start while the generator's modules load and the spec is read
        from . import ir, load, render

        with timings.stage("parse"):
            memo = store.memo("load", load.vetting_shard) if store is not None else None
            document = load.load(config.spec, allowed_dirs=tuple(config.allow_ref_dirs), lenient=config.lenient, memo=memo)
        with timings.stage("ir"):
            api = ir.build(
                document,
                package=config.package,
                include_tags=config.include_tags,
                include_operations=config.include_operations,
                lenient=config.lenient,
                memo=store.memo("normalized", ir.normalized_shard, raw=True) if store is not None else None,
                operations=store.memo("operations", raw=True) if store is not None else None,
            )
        with timings.stage("render"):
            files = render.render(
                api,
                spec_label=spec_label(config),
                options=config.render_options(),
                stage=timings.stage,
                workers=workers,
                store=store,
                compile_files=compile_files,
            )
    warnings = tuple(_with_line(w) for w in (*document.warnings, *api.warnings))
    if use_cache:
        with timings.stage("cache"):
            if compile_files:
                cache.put(key, api.package, files, document.sources, warnings)
            if store is not None:
                store.save_memos()  # the next run redoes only what changed
                store.prune()
                timings.store = (store, cache)
    return api.package, files, warnings


def print_warnings(warnings: tuple[SpecWarning, ...], quiet: bool) -> None:
    """Each warning on stderr as `codegen: warning: place: what is wrong; what was done`."""
    if quiet:
        return
    root = _safe_root()
    for warning in warnings:
        print(f"codegen: warning: {warning.render(root)}", file=sys.stderr)


def require_spec(config: Config) -> None:
    """Refuse (UsageError) a spec path that names no readable file, with the reason."""
    try:
        with open(config.spec, "rb"):
            pass
    except OSError as exc:
        reasons = {FileNotFoundError: "no such file", IsADirectoryError: "it is a directory", PermissionError: "permission denied"}
        reason = reasons.get(type(exc)) or (exc.strerror or str(exc)).lower()
        raise UsageError(f"cannot read the spec {_shown(config.spec, Path.cwd())}: {reason}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codegen", description="Spec-first FastAPI server generator.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--spec", help="OpenAPI document (default from [tool.codegen], else spec/openapi.yaml)")
        p.add_argument("--out", help="output folder (default generated/)")
        p.add_argument("--package", help="package name (default derived from info.title)")
        p.add_argument("--allow-ref-dir", action="append", dest="allow_ref_dirs", help="a folder external $refs may read")
        p.add_argument("--quiet", action="store_true", help="print nothing but errors")
        p.add_argument("--verbose", action="store_true", help="print the time of each stage")
        p.add_argument("--debug", action="store_true", help="show tracebacks")
        p.add_argument("--no-cache", action="store_true", help="ignore and do not write .codegen-cache/")
        p.add_argument("--jobs", type=int, help="worker processes (default: one per core for a spec over 512 KB; 1: none)")
        p.add_argument(
            "--lenient",
            action="store_true",
            default=None,
            help="work around the rules of OpenAPI the spec breaks where generation can (each a warning)",
        )

    common(sub.add_parser("generate", help="generate the server package from the spec"))
    common(sub.add_parser("check", help="exit 1 with a diff when the generated package is stale"))
    init = sub.add_parser("init", help="write a starting implementation module (never overwrites)")
    common(init)
    init.add_argument("--module", help="path of the module to write (default <package>_impl.py at the project root)")
    mock = sub.add_parser("mock", help="serve the spec's mock on 127.0.0.1")
    common(mock)
    mock.add_argument("--port", type=int, default=4010)
    mock.add_argument("--host", default="127.0.0.1")
    return parser


def _config(args: argparse.Namespace) -> Config:
    return load_config(
        Path.cwd(),
        {
            "spec": args.spec,
            "out": args.out,
            "package": args.package,
            "allow_ref_dirs": args.allow_ref_dirs,
            "lenient": args.lenient,
        },
    )


def _print_timings(timings: Timings) -> None:
    from .cache import MAX_ENTRIES

    for name, seconds in timings.stages:
        print(f"  {name:<8} {seconds * 1000:8.0f} ms", file=sys.stderr)
    if timings.store is not None:
        store, cache = timings.store
        hits, misses = store.hits, store.misses
        pieces, size = store.size()
        size += cache.size()
        print(
            f"  cache    {hits} pieces reused, {misses} rendered; .codegen-cache/ holds {pieces} pieces and "
            f"up to {MAX_ENTRIES} whole packages: {size / 1e6:.1f} MB",
            file=sys.stderr,
        )


def cmd_generate(args: argparse.Namespace) -> int:
    from . import write

    config = _config(args)
    timings = Timings(progress=sys.stderr.isatty() and not args.quiet)
    try:
        package, files, warnings = build_files(config, timings, use_cache=not args.no_cache, jobs=args.jobs)
        print_warnings(warnings, args.quiet)
        with timings.stage("write"):
            changes = write.write(config.out / package, files)
    finally:
        timings.done()
    if not args.quiet:
        where = _shown(config.out / package, config.root)
        print(
            f"codegen: {where}: {len(changes.written)} written, {len(changes.removed)} removed, "
            f"{len(changes.unchanged)} unchanged"
        )
    if args.verbose:
        _print_timings(timings)
    return EXIT_OK


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def cmd_check(args: argparse.Namespace) -> int:
    from . import write

    config = _config(args)
    timings = Timings(progress=sys.stderr.isatty() and not args.quiet)
    try:
        package, files, warnings = build_files(config, timings, use_cache=not args.no_cache, jobs=args.jobs, compile_files=False)
    finally:
        timings.done()
    print_warnings(warnings, args.quiet)
    target = config.out / package
    with timings.stage("compare"):
        lines = write.diff(target, files, label=_shown(target, config.root))
    if args.verbose:
        _print_timings(timings)
    if not lines:
        if not args.quiet:
            print(f"codegen: {_shown(target, config.root)} is up to date with {spec_label(config)}")
        return EXIT_OK
    color = sys.stdout.isatty()
    for line in lines:
        if color and line.startswith("+") and not line.startswith("+++"):
            sys.stdout.write(f"\033[32m{line}\033[0m")
        elif color and line.startswith("-") and not line.startswith("---"):
            sys.stdout.write(f"\033[31m{line}\033[0m")
        else:
            sys.stdout.write(line)
    print(
        f"codegen: {_shown(target, config.root)} is stale: it differs from a fresh generation of "
        f"{spec_label(config)}.\n  fix: run `make generate` (or `codegen generate`) and commit the result",
        file=sys.stderr,
    )
    return EXIT_DIFF


def cmd_mock(args: argparse.Namespace) -> int:
    import importlib
    import tempfile

    import uvicorn

    from . import write

    config = _config(args)
    package, files, warnings = build_files(config)
    print_warnings(warnings, args.quiet)
    with tempfile.TemporaryDirectory(prefix="codegen-mock-") as tmp:
        write.write(Path(tmp) / package, files)
        sys.path.insert(0, tmp)
        module: Any = importlib.import_module(package)
        app = module.create_app(mock=True)
        if not args.quiet:
            print(f"codegen: mock of {spec_label(config)} on http://{args.host}:{args.port}", flush=True)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if args.quiet else "info")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from . import ir, load
    from .render import render_implementation

    config = _config(args)
    require_spec(config)
    document = load.load(config.spec, allowed_dirs=tuple(config.allow_ref_dirs), lenient=config.lenient)
    api = ir.build(
        document,
        package=config.package,
        include_tags=config.include_tags,
        include_operations=config.include_operations,
        lenient=config.lenient,
    )
    print_warnings(tuple(_with_line(w) for w in (*document.warnings, *api.warnings)), args.quiet)
    target = Path(args.module).resolve() if args.module else config.root / f"{api.package}_impl.py"
    if target.exists():
        raise UsageError(
            f"{_shown(target, config.root)} already exists; `codegen init` never overwrites. "
            "Move it away or pass --module another/path.py"
        )
    text = render_implementation(api)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8") as fh:  # "x": fail rather than overwrite, even in a race
        fh.write(text)
    if not args.quiet:
        print(
            f"codegen: wrote {_shown(target, config.root)}: one class per tag of {spec_label(config)}, "
            f"every operation answering 501 until you implement it.\n"
            f"  serve it: uvicorn {target.stem}:app  (with {_shown(config.out, config.root)} on the import path)"
        )
    return EXIT_OK


COMMANDS = {"generate": cmd_generate, "check": cmd_check, "init": cmd_init, "mock": cmd_mock}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    try:
        return COMMANDS[args.command](args)
    except (SpecErrors, SpecError) as exc:
        errors = exc.errors if isinstance(exc, SpecErrors) else [exc]
        root = _safe_root()
        for error in errors:
            print(f"codegen: error: {_with_line(error).render(root)}", file=sys.stderr)
        if debug:
            raise
        return EXIT_BAD
    except UsageError as exc:
        print(f"codegen: error: {exc}", file=sys.stderr)
        if debug:
            raise
        return EXIT_BAD
    except GeneratedCodeError as exc:
        if debug:
            raise
        print(
            f"codegen: error: the generated package would not import: {exc}\n"
            "  hint: nothing was written; this is a bug of codegen, please report it with the spec",
            file=sys.stderr,
        )
        return EXIT_BAD
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if debug:
            raise
        print(
            f"codegen: error: generation failed: {type(exc).__name__}: {exc}\n"
            "  hint: this is likely a construct codegen does not support yet; rerun with --debug for the traceback",
            file=sys.stderr,
        )
        return EXIT_BAD


def _with_line(error: Problem) -> Problem:
    if error.line is None and error.file is not None and error.pointer:
        from .load import locate

        place = locate(error.file, error.pointer)
        if place:
            error.line, error.column = place
    return error


def _safe_root() -> Path | None:
    try:
        return Path.cwd()
    except OSError:
        return None


if __name__ == "__main__":
    raise SystemExit(main())

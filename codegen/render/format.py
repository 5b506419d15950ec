"""One formatting pass at the end: black over every generated Python file."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

LINE_LENGTH = 100
PARALLEL_THRESHOLD = 200_000  # characters; below this a process pool costs more than it saves


def format_source(source: str) -> str:
    """`source` formatted by black (Python 3.11 target, 100 columns)."""
    import black

    mode = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=LINE_LENGTH)
    return black.format_str(source, mode=mode)


def format_files(files: dict[str, str], *, workers: int | None = None) -> dict[str, str]:
    """Format the `.py` files of `files`; other files pass through unchanged."""
    names = [n for n in files if n.endswith(".py")]
    total = sum(len(files[n]) for n in names)
    result = dict(files)
    if workers == 1 or total < PARALLEL_THRESHOLD or len(names) < 2:
        for name in names:
            result[name] = format_source(files[name])
        return result
    # Largest first, so the pool finishes together.
    ordered = sorted(names, key=lambda n: -len(files[n]))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for name, text in zip(ordered, pool.map(format_source, [files[n] for n in ordered]), strict=True):
            result[name] = text
    return result

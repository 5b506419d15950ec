"""Stage 3, render: IR -> the generated package as text (path -> content), formatted.

Models come from datamodel-code-generator (`models.py`), JSON Schema checks from our compiler
(`validators.py`); everything else is a Jinja template fed plain views built here
(`renderer.py`), so templates hold loops and conditions only.

The package's own names load on first use: worker processes import its modules for their calls
(`parallel`) without the renderer and the stages before it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .renderer import (
        Renderer,
        environment,
        make_pointer,
        render,
        render_implementation,
        templates_dir,
    )

__all__ = ["Renderer", "environment", "make_pointer", "render", "render_implementation", "templates_dir"]


def __getattr__(name: str) -> Any:
    if name not in __all__:  # a submodule not imported yet, or no such name
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import renderer

    return getattr(renderer, name)

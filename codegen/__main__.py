"""`python -m codegen`."""

from .cli import main

raise SystemExit(main())

"""`python -m service.migrate` (`make migrate`): bring DATABASE_URL's store to the latest schema.

The service does this itself when it starts; this is for deployments that migrate first.
"""

from __future__ import annotations

import asyncio
import sys

from .db import Database
from .settings import Settings, SettingsError, async_database_url


async def _migrate() -> str:
    settings = Settings.from_env()
    db = Database(async_database_url(settings.database_url))
    try:
        await db.open(attempts=1)
    finally:
        await db.close()
    return db.url.render_as_string(hide_password=True)


def main() -> int:
    try:
        where = asyncio.run(_migrate())
    except SettingsError as exc:
        print(f"service: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback, for an unreachable store
        print(f"service: migrating failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"{where}: schema at the latest migration")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A reference LangGraph-style server on the generated `langsmith_deployment` stubs.

Threads, runs (queued, executed, cancelled), a read-only assistant registry and the health and
info endpoints, stored in SQLite through SQLAlchemy. `service.app:app` is the ASGI application.
"""

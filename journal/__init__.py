"""The scalp journal: PRD-136's ``options_scalps`` table, the ``runs`` table, migrations and a writer.

``journal.models`` (SQLAlchemy 2 models), ``journal.migrate`` (Alembic, configured
in code; revisions 136, 137 and 138), ``journal.writer.JournalWriter`` (one ``runs`` row
per run, one commit per closed scalp, each tagged with its run id),
``journal.health`` (names a half-created SQLite journal) and
``analyzers.journal.JournalRecorder`` (the Backtrader analyzer that feeds it).
"""

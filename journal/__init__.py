"""The scalp journal: PRD-136's ``options_scalps`` table, its migration and a writer.

``journal.models`` (SQLAlchemy 2 model), ``journal.migrate`` (Alembic, configured
in code), ``journal.writer.JournalWriter`` (one commit per closed scalp) and
``analyzers.journal.JournalRecorder`` (the Backtrader analyzer that feeds it).
"""

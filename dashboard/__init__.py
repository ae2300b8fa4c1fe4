"""The scalper dashboard (PRD-136): Live Scalps, Strike Picker, Scalp History, Performance.

``python -m dashboard [--journal URL] [--catalog DIR] [--port 8501] [--host 127.0.0.1]``
serves a Streamlit app that reads the journal read-only. Data modules (``db``, ``runs``,
``scalps``, ``history``, ``performance``, ``live``, ``strikes``) are plain functions from
SQLAlchemy queries to pandas frames and values, with no Streamlit; ``dashboard.ui``
holds the page code, one module per tab.
"""

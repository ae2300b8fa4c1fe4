"""The Streamlit page code of the dashboard: one module per tab, the sidebar and the cached data calls."""

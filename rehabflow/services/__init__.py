"""Plain services shared by the CLI and the dashboard (no Streamlit, no Typer): background jobs, scenario levers,
the simulation and optimizer adapters, uploads, downloads and comparison tables."""

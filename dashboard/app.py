"""The rehabflow dashboard: What-if, Compare, Roster and About the model.

Start it with ``rehabflow dashboard`` or ``streamlit run dashboard/app.py``. The pages are thin layers over
``sim`` and ``optimizer``: they hold no model logic (anything shown here, the CLI can compute).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent

st.set_page_config(page_title="rehabflow", page_icon=":material/healing:", layout="wide")

PAGES = [
    st.Page(
        str(HERE / "app_pages" / "whatif.py"), title="What-if", icon=":material/tune:", url_path="whatif", default=True
    ),
    st.Page(
        str(HERE / "app_pages" / "compare.py"),
        title="Compare",
        icon=":material/compare_arrows:",
        url_path="compare-scenarios",
    ),
    st.Page(
        str(HERE / "app_pages" / "roster.py"),
        title="Roster",
        icon=":material/calendar_month:",
        url_path="weekly-roster",
    ),
    st.Page(str(HERE / "app_pages" / "clinic.py"), title="Clinic", icon=":material/local_hospital:", url_path="clinic"),
    st.Page(
        str(HERE / "app_pages" / "about.py"),
        title="About the model",
        icon=":material/info:",
        url_path="about-the-model",
    ),
]


def _what_if_by_name() -> None:
    """``/what-if`` (the What-if page's own name): the default page is served at ``/``, so this address would
    otherwise open a "Page not found" dialog."""
    st.switch_page(PAGES[0])


ALIASES = [st.Page(_what_if_by_name, title="What-if", url_path="what-if", visibility="hidden")]

page = st.navigation(PAGES + ALIASES)
with st.sidebar:
    st.caption(
        "Integrated acupuncture + physiotherapy programme: capacity what-ifs (simulation) and weekly rosters "
        "(optimizer). Every figure here can be reproduced with the `rehabflow` command line."
    )
page.run()

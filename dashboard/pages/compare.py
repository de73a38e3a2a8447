"""Compare: placeholder until its model API lands."""

from __future__ import annotations

import streamlit as st

st.title("Compare")
st.info("This page is being built.")

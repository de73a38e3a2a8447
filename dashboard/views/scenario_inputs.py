"""Streamlit widgets shared by the pages: pick a scenario (built-in, upload or pasted YAML) and edit its levers.

Every widget has a stable key (it can be set by key). Lever values survive a trip to another page: Streamlit
drops the state of widgets that a page run does not draw, so the values are shadowed in ``_levers_saved``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from rehabflow.services.levers import (
    CONDITION_LABELS,
    GROUPS,
    HOURS_PREFIX,
    LEVERS,
    Lever,
    apply_levers,
    errors_by_lever,
    hours_key,
    lever_values,
)
from rehabflow.services.uploads import decode_upload, markdown_safe, scenario_from_upload
from scenarios import InputError, Scenario, builtin_names, load_scenario, scenario_hash
from scenarios.schema import StaffMember

SOURCE_BUILTIN = "Built-in scenario"
SOURCE_UPLOAD = "Upload a YAML file"
SOURCE_PASTE = "Paste YAML"
SAVED = "_levers_saved"


@st.cache_data(show_spinner=False)
def builtin_scenario(name: str) -> Scenario:
    return load_scenario(name)


INPUTS_SAVED = "_inputs_saved"


def _keep_inputs(prefix: str) -> None:
    """Restore the source, built-in and pasted YAML of ``prefix`` after a visit to another page (Streamlit drops
    the state of widgets a page run does not draw), and shadow their current values."""
    saved: dict[str, Any] = st.session_state.setdefault(INPUTS_SAVED, {})
    for key in (f"{prefix}_source", f"{prefix}_builtin", f"{prefix}_yaml_text"):
        if key not in st.session_state and key in saved:
            st.session_state[key] = saved[key]


def _save_inputs(prefix: str) -> None:
    saved: dict[str, Any] = st.session_state.setdefault(INPUTS_SAVED, {})
    for key in (f"{prefix}_source", f"{prefix}_builtin", f"{prefix}_yaml_text"):
        if key in st.session_state:
            saved[key] = st.session_state[key]


def pick_scenario(prefix: str = "wi") -> Scenario | None:
    """The scenario the user chose, or ``None`` after showing why it cannot be used (never a traceback)."""
    _keep_inputs(prefix)
    try:
        return _pick_scenario(prefix)
    finally:
        _save_inputs(prefix)


def _pick_scenario(prefix: str) -> Scenario | None:
    source = st.radio(
        "Start from",
        [SOURCE_BUILTIN, SOURCE_UPLOAD, SOURCE_PASTE],
        key=f"{prefix}_source",
        horizontal=True,
    )
    if source == SOURCE_BUILTIN:
        names = builtin_names()
        name = st.selectbox(
            "Scenario",
            names,
            index=names.index("baseline") if "baseline" in names else 0,
            key=f"{prefix}_builtin",
            help="`rehabflow scenarios list` shows the same scenarios.",
        )
        scenario = builtin_scenario(name)
        if scenario.description:
            st.caption(scenario.description)
        return scenario
    try:
        if source == SOURCE_UPLOAD:
            upload = st.file_uploader(
                "Scenario YAML",
                type=["yaml", "yml"],
                key=f"{prefix}_upload",
                help="Start from `rehabflow scenarios show baseline > my.yaml`; a file may `extends: baseline`.",
            )
            if upload is None:
                st.info("Upload a scenario file to continue.")
                return None
            return scenario_from_upload(decode_upload(upload.getvalue(), upload.name), upload.name)
        text = st.text_area(
            "Scenario YAML",
            key=f"{prefix}_yaml_text",
            height=200,
            placeholder="extends: baseline\nname: my_clinic\ndemand:\n  referrals_per_week: 15",
        )
        if not text.strip():
            st.info("Paste a scenario to continue.")
            return None
        return scenario_from_upload(text, "pasted scenario")
    except InputError as e:
        st.error(
            "This scenario cannot be used:\n\n" + "\n".join(f"- {markdown_safe(line)}" for line in str(e).splitlines())
        )
        return None


def _sync_state(base: Scenario) -> None:
    """Fill the lever widgets' state from ``base`` when it changed, else restore values saved by another page."""
    h = scenario_hash(base)
    saved: dict[str, Any] = st.session_state.get(SAVED, {})
    if saved.get("__base__") != h:
        for lever, value in zip(LEVERS, lever_values(base).values(), strict=True):
            st.session_state[lever.key] = value
        for s in base.staff:
            st.session_state[hours_key(s.id)] = s.availability
        st.session_state[SAVED] = {"__base__": h}
        return
    for key, value in saved.items():
        if key != "__base__" and key not in st.session_state:
            st.session_state[key] = value


def _widget(lever: Lever, container: Any) -> Any:
    kw = dict(key=lever.key, help=lever.help or None)
    if lever.kind == "bool":
        return container.checkbox(lever.label, **kw)
    if lever.kind == "int":
        return container.number_input(
            lever.label,
            min_value=int(lever.min),  # type: ignore[arg-type]  # numeric levers always have bounds
            max_value=int(lever.max),  # type: ignore[arg-type]
            step=int(lever.step or 1),
            **kw,
        )
    return container.number_input(
        lever.label + (" (%)" if lever.kind == "percent" else ""),
        min_value=float(lever.min),  # type: ignore[arg-type]  # numeric levers always have bounds
        max_value=float(lever.max),  # type: ignore[arg-type]  # numeric levers always have bounds
        step=float(lever.step or 0.1),
        format="%g" if lever.kind != "percent" else "%.1f",
        **kw,
    )


def _show_errors(container: Any, messages: list[str] | None) -> None:
    for m in messages or []:
        container.error(m, icon=":material/error:")


def _validate(
    base: Scenario, values: dict[str, Any], hours: dict[str, str]
) -> tuple[Scenario | None, list[Any], dict[str, list[str]], list[str]]:
    """Apply the levers, then the hours of the staff that exist after any head-count change.

    Returns the edited scenario (``None`` if invalid), the staff list to draw hours inputs for, and the errors
    placed by lever plus those with no lever.
    """
    try:
        counted = apply_levers(base, values, None)
    except InputError as e:
        return None, list(base.staff), *errors_by_lever(str(e), [s.id for s in base.staff])
    # new practitioners (added by a head-count lever) get their own hours inputs
    for s in counted.staff:
        hours.setdefault(s.id, st.session_state.get(hours_key(s.id), s.availability))
    try:
        edited = apply_levers(counted, {}, hours)
    except InputError as e:
        return None, list(counted.staff), *errors_by_lever(str(e), [s.id for s in counted.staff])
    return edited, list(edited.staff), {}, []


def edit_levers(base: Scenario) -> tuple[Scenario | None, dict[str, list[str]], list[str]]:
    """Draw the levers; return the edited scenario (``None`` if invalid), inline errors and general errors.

    Validation runs first (on the values the widgets hold after this interaction), so each message can be drawn
    next to its lever in the same run.
    """
    _sync_state(base)
    values = {lever.path: st.session_state.get(lever.key) for lever in LEVERS}
    hours = {s.id: st.session_state.get(hours_key(s.id), s.availability) for s in base.staff}
    edited, staff_after, placed, general = _validate(base, values, hours)

    tabs = st.tabs([GROUPS[g] for g in GROUPS])
    by_group: dict[str, list[Lever]] = {}
    for lever in LEVERS:
        by_group.setdefault(lever.group, []).append(lever)
    for tab, group in zip(tabs, GROUPS, strict=True):
        with tab:
            _show_errors(st, placed.get(group))
            if group == "staff":
                _staff_tab(by_group["staff"], staff_after, placed)
            elif group == "demand":
                _demand_tab(by_group["demand"], placed)
            else:
                _two_column_tab(by_group[group], placed)
    if general:
        st.error("\n".join(general))
    _shadow_levers(base, staff_after)
    return edited, placed, general


def _staff_tab(levers: list[Lever], staff_after: Sequence[StaffMember], placed: dict[str, list[str]]) -> None:
    """The head-count levers in three columns, then one hours input per staff member (after the head counts)."""
    cols = st.columns(3)
    for col, lever in zip(cols, levers, strict=True):
        _widget(lever, col)
        _show_errors(col, placed.get(lever.path))
    st.markdown("**Hours** (e.g. `Mon-Fri 08:00-16:00` or `Mon 08:00-12:00; Wed 14:00-18:00`; blank = clinic hours)")
    hour_cols = st.columns(3)
    for i, s in enumerate(staff_after):
        key = hours_key(s.id)
        if key not in st.session_state:
            st.session_state[key] = s.availability
        roles = " + ".join(r.value for r in s.roles)
        col = hour_cols[i % 3]
        col.text_input(f"{s.id} ({roles})", key=key, placeholder="clinic hours")
        _show_errors(col, placed.get(HOURS_PREFIX + s.id))


def _demand_tab(levers: list[Lever], placed: dict[str, list[str]]) -> None:
    """Referrals per week, then the condition mix in three columns with its total."""
    referrals, mix = levers[0], levers[1:]
    _widget(referrals, st)
    _show_errors(st, placed.get(referrals.path))
    st.markdown("**Condition mix** (percent of referrals; must add up to 100)")
    cols = st.columns(3)
    for i, lever in enumerate(mix):
        _widget(lever, cols[i % 3])
    total = sum(float(st.session_state.get(lever.key) or 0.0) for lever in mix)
    st.caption(f"Total: {total:.1f}%")
    _show_errors(st, placed.get("demand.condition_mix"))


def _two_column_tab(levers: list[Lever], placed: dict[str, list[str]]) -> None:
    """Any other group's levers in two columns, each with its errors below it."""
    cols = st.columns(2)
    for i, lever in enumerate(levers):
        col = cols[i % 2]
        _widget(lever, col)
        _show_errors(col, placed.get(lever.path))


def _shadow_levers(base: Scenario, staff_after: Sequence[StaffMember]) -> None:
    """Shadow the lever and hours values in the session, so that they survive a visit to another page."""
    saved = {"__base__": scenario_hash(base)}
    saved.update({lever.key: st.session_state.get(lever.key) for lever in LEVERS})  # type: ignore[misc]  # session values of levers are strings or numbers
    previous = st.session_state.get(SAVED, {})
    if previous.get("__base__") == saved["__base__"]:  # hours typed for staff not drawn this run are kept
        saved.update({k: v for k, v in previous.items() if k.startswith("lever_hours__")})
    saved.update({hours_key(s.id): st.session_state.get(hours_key(s.id)) for s in staff_after})  # type: ignore[misc]  # session values of levers are strings or numbers
    st.session_state[SAVED] = saved


def problems_by_tab(placed: dict[str, list[str]], general: list[str]) -> list[str]:
    """Every validation problem as ``tab: field: reason``, so the page can list them above the tabs."""
    tab_of = {lever.path: GROUPS[lever.group] for lever in LEVERS}
    tab_of.update(
        {
            "demand.condition_mix": GROUPS["demand"],
            "staff": GROUPS["staff"],
            "rooms": GROUPS["rooms"],
            "demand": GROUPS["demand"],
            "protocol": GROUPS["protocol"],
            "protocol.timing": GROUPS["timing"],
            "run": GROUPS["run"],
            "run.warmup": GROUPS["run"],
        }
    )
    lines: list[str] = []
    for target, messages in placed.items():
        if target.startswith(HOURS_PREFIX):
            tab, field = GROUPS["staff"], f"hours of {target[len(HOURS_PREFIX) :]}"
        else:
            tab = tab_of.get(target, "Settings")
            lever = next((lv for lv in LEVERS if lv.path == target), None)
            field = lever.label if lever else target
        lines.extend(f"{tab} tab: {field}: {m}" for m in messages)
    return lines + list(general)


__all__ = ["CONDITION_LABELS", "edit_levers", "pick_scenario", "problems_by_tab"]

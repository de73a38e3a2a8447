"""About the model: the protocol, the pain-response assumptions and their sources, in plain language.

Every number on this page is read from the chosen scenario (the same values the simulation uses), never typed
here; the sources are the rows of the shared clinical-parameters table that the scenario files cite.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.views.scenario_inputs import builtin_scenario
from rehabflow.services.levers import CONDITION_LABELS
from scenarios import builtin_names

MODEL_DOC = Path(__file__).resolve().parents[2] / "docs" / "background" / "model.md"

st.title("About the model")
st.markdown(
    "rehabflow simulates a clinic that runs an **integrated acupuncture + physiotherapy programme**: "
    "acupuncture first brings pain down and opens a short *analgesic window*; physiotherapy then loads the "
    "muscles while pain is low enough for exercise to work; consolidation and discharge follow. "
    "The numbers below come from the scenario you pick (they are the simulation's inputs)."
)
names = builtin_names()
name = st.selectbox(
    "Scenario", names, index=names.index("baseline") if "baseline" in names else 0, key="about_scenario"
)
s = builtin_scenario(name)
p = s.protocol

st.header("The protocol")
st.table(
    pd.DataFrame(
        [
            [
                "1 pain control",
                f"about {p.phase1.typical_weeks}",
                f"{p.phase1.acupuncture_per_week}/week (local + systemic points)",
                "none: home range-of-motion only",
                f"physician re-evaluates: VAS < {p.goal_vas:g}, after at least {p.phase1.min_sessions} and at most "
                f"{p.phase1.session_cap} sessions (non-responders: {p.phase1.non_responder_policy})",
            ],
            [
                "2 transition",
                f"about {p.phase2.typical_weeks} (at most {p.phase2.max_weeks})",
                f"{p.phase2.acupuncture_per_week}/week",
                f"{p.phase2.pt_per_week}/week, progressive load",
                f"{p.phase2.progress_target:g} effective loading sessions",
            ],
            [
                "3 consolidation",
                f"about {p.phase3.typical_weeks} (at most {p.phase3.max_weeks})",
                "none" if p.phase3.acupuncture_every_weeks == 0 else f"every {p.phase3.acupuncture_every_weeks} weeks",
                f"{p.phase3.pt_per_week}/week, increasing load",
                f"{p.phase3.progress_target:g} effective sessions, then discharge",
            ],
            [
                "maintenance",
                f"{p.maintenance.duration_weeks}",
                "none"
                if p.maintenance.acupuncture_every_weeks == 0
                else f"every {p.maintenance.acupuncture_every_weeks} weeks"
                + (" (chronic conditions only)" if p.maintenance.chronic_only else ""),
                "home programme",
                "recurrence can bring a patient back",
            ],
        ],
        columns=["phase", "weeks", "acupuncture", "physiotherapy", "moves on when"],
    ).set_index("phase")
)
t = p.timing
st.markdown(
    "**Timing rules** (the roster and the simulated appointment book both respect them):\n"
    + (
        f"- acupuncture the day before physiotherapy (the analgesic window), or the same day at least "
        f"{t.same_day_acupuncture_min_hours_before_pt:g} h earlier;\n"
        if t.acupuncture_day_before_pt
        else f"- same-day acupuncture at least {t.same_day_acupuncture_min_hours_before_pt:g} h before physiotherapy;\n"
    )
    + f"- no intense exercise within {t.no_pt_within_hours_before_acupuncture:g} h before acupuncture "
    "(fatigue alters the needling response);\n"
    + f"- at least {t.min_days_between_same_type} days between two sessions of the same kind.\n\n"
    f"Session lengths: intake {p.durations_minutes.intake_assessment} min, acupuncture "
    f"{p.durations_minutes.acupuncture} min, physiotherapy {p.durations_minutes.physiotherapy} min, "
    f"re-evaluation {p.durations_minutes.reevaluation} min."
)

st.header("How pain responds (the assumptions)")
pm = s.pain_model
st.markdown(
    f"""
- **Pain at entry** is drawn per patient from the condition's typical VAS (table below).
- **Each patient is a responder, a partial responder or a non-responder** to needling, with the
  condition's probabilities, and a patient factor (spread {pm.patient_effect_sd:g}) makes people differ
  continuously, so a slow responder can still reach the goal late.
- **Being treated helps by itself**: every needling session, real or sham, adds a contextual relief (up to
  {pm.contextual_effect:.0%} of the pain after a full course); real needling adds a smaller specific relief.
  Each session closes {1 - pm.diminishing_returns:.0%} of the gap to its ceiling (most of the benefit comes
  early), and about {1 - pm.effect_persistence_weekly**52:.0%} of the effect fades over a year. The built-in
  trials (GERAC, Cherkin 2009, Menezes Costa 2012) are reproduced with these same defaults (docs/validation.md).
- **The analgesic window**: right after a real session pain is lower still, fading over hours (median per
  condition below). *No published figure exists for how long this lasts*: it is a wide prior to calibrate.
  Physiotherapy inside it runs at lower pain, so it delivers more load and builds more function.
- **Timing matters**: acupuncture within {pm.fatigue_hours:g} h after exercise loses {pm.fatigue_penalty:.0%}
  of its specific effect; a physiotherapy session delivers full load only at VAS {pm.pt_load.full_load_max_vas:g}
  or below, falling to {pm.pt_load.min_load:.0%} at VAS {pm.pt_load.min_load_vas:g} ("strengthening with pain
  does not work").
- **Without treatment pain still drifts down** (regression to the mean, faster when the pain is recent), and
  exercise alone relieves up to {pm.pt_pain_relief:.0%} of the pain, so a physiotherapy-only comparator
  (`pt_only`) is not a straw man. A VAS reading varies by about {pm.vas_noise_sd:g} points from day to day.
- **People are people**: no-shows, flare-ups, dropout (more likely with more pain and longer waits) and
  recurrence after discharge.
"""
)
rows = []
for cond, spec in s.conditions.items():
    share = s.demand.condition_mix.get(cond, 0.0)
    rows.append(
        {
            "condition": CONDITION_LABELS[cond],
            "share of referrals": f"{share:.0%}",
            "entry VAS (mean)": f"{spec.baseline_vas.mean:g}",
            "responders": f"{spec.responder_probabilities.responder:.0%}",
            "non-responders": f"{spec.responder_probabilities.non_responder:.0%}",
            "specific relief (responder, share of pain)": f"{spec.acupuncture_effect.responder:.0%}",
            "analgesic window (VAS, median h)": f"{spec.analgesic_window.relief_vas:g}, {spec.analgesic_window.median_hours:g} h",
            "no-show": f"{spec.no_show_probability:.0%}",
            "recurrence in 12 months": f"{spec.recurrence_12_months:.0%}",
            "chronic (maintenance)": "yes" if spec.chronic else "no",
        }
    )
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="about_conditions")

st.header("Sources")
st.markdown(
    """
Each default in the scenario files cites a row of the project's clinical-parameters table or says
"assumption" (see `rehabflow scenarios show baseline`). The main published figures:

| what | figure | source |
|---|---|---|
| pain at entry | low back pain 6.8 in acupuncture referrals; neck 6.3; fibromyalgia ~7.0; knee replacement 4.9 | McKee 2013 JABFM; Iversen 2018; Deare 2013 Cochrane; Heiberg 2010 |
| responders (>= 50% less pain) | low back pain 47.6% (10 sessions, 2/week); shoulder 65% at 3 months | Haake 2007 (GERAC); Molsberger 2010 |
| effect size | ~0.5 SD vs no acupuncture, ~0.2 SD vs sham; ~15% of it lost at 12 months | Vickers 2012, 2018 |
| course of change | -1.6 to -1.9 VAS after 10 sessions vs -0.7 usual care | Cherkin 2009 |
| immediate effect | SMD -0.56 within 30 min | Xiang 2017 |
| clinically important change | about 2 points or 30% | Farrar 2001; Ostelo 2008 |
| missed appointments | 73% miss at least one physiotherapy appointment | Bhavsar 2021 |
| dropout | 19.2% from exercise programmes | Vancampfort 2024 |
| recurrence | low back pain 33% at 1 year | da Silva 2017 |
| natural history | no-treatment improvement SMD -0.24 | Krogsbøll 2009; Menezes Costa 2012 |
| needle retention | >= 30 min in 56% of trials | MacPherson 2013 |

**Known gaps** (model parameters, not facts): how long the analgesic window lasts, and whether maintenance
acupuncture reduces recurrence. Treat results that depend on them as what-ifs and vary them.
"""
)
if MODEL_DOC.is_file():
    with st.expander("Full model description (docs/background/model.md)"):
        st.markdown(MODEL_DOC.read_text(encoding="utf-8"))

"""Criteria engine throughput on one core (target: >= 20,000 evaluations/s).

Run from anywhere:  .venv/bin/python bench/bench_criteria.py [--seconds 2]

Evaluates a realistic mix of requests against the shipped 2026.1 sets: most complete and
meeting the criteria, some with answers missing, some failing a threshold, some repeats with
a plan count. Prints the overall rate and the rate per set.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from criteria import catalog
from criteria.engine import evaluate

# How often each set is requested (a pain clinic's mix: mostly injections).
MIX = {
    "esi": 40,
    "facet_mbb": 20,
    "facet_rfa": 15,
    "scs_trial": 8,
    "scs_permanent": 5,
    "pump_trial": 7,
    "pump_permanent": 5,
}
CODES = {
    "esi": ["62321", "62323", "64479", "64483", "64484"],
    "facet_mbb": ["64490", "64491", "64492", "64493"],
    "facet_rfa": ["64633", "64635"],
    "scs_trial": ["63650"],
    "scs_permanent": ["63650", "63685"],
    "pump_trial": ["62324", "62322"],
    "pump_permanent": ["62350", "62362"],
}
GOOD: dict[str, dict[str, Any]] = {
    "esi": {
        "radicular_findings": True, "pain_duration_weeks": 10, "conservative_care_weeks": 8,
        "conservative_modalities": ["medications", "physical_therapy", "home_exercise"],
        "pain_score": 7, "function_scale_documented": True, "imaging_guidance": "fluoroscopy",
        "approach": "transforaminal", "levels": 2, "spinal_region": "lumbar",
        "prior_sessions_12mo": 1, "prior_relief_percent": 60, "prior_relief_weeks": 6,
    },
    "facet_mbb": {
        "axial_pain": True, "untreated_radiculopathy": False, "pain_duration_weeks": 20,
        "conservative_care_weeks": 16, "pain_score": 6, "function_scale_documented": True,
        "imaging_guidance": "fluoroscopy", "spinal_region": "lumbar",
        "prior_sessions_12mo": 1, "prior_relief_percent": 85,
    },
    "facet_rfa": {
        "mbb_relief_percents": [85, 90], "imaging_guidance": "fluoroscopy",
        "spinal_region": "lumbar", "prior_sessions_12mo": 0,
    },
    "scs_trial": {
        "pain_duration_weeks": 60, "conservative_care_weeks": 40,
        "conservative_modalities": ["medications", "physical_therapy"],
        "psych_evaluation_cleared": True, "untreated_substance_use_disorder": False,
        "contraindications": [],
    },
    "pump_trial": {
        "life_expectancy_months": 24, "specialist_confirms_alternatives_failed": True,
        "contraindications": [], "pain_origin": "non_malignant", "pain_duration_weeks": 52,
        "conservative_care_weeks": 40, "psych_evaluation_cleared": True,
    },
}  # fmt: skip
_OUTCOME = {
    "trial_relief_percent": 65,
    "trial_side_effects_acceptable": True,
    "trial_patient_accepts": True,
}
GOOD["scs_permanent"] = {**GOOD["scs_trial"], **_OUTCOME}
GOOD["pump_permanent"] = {**GOOD["pump_trial"], **_OUTCOME}
# Typical failures per set: a threshold just missed.
FAIL: dict[str, dict[str, Any]] = {
    "esi": {"pain_duration_weeks": 3},
    "facet_mbb": {"prior_relief_percent": 70},
    "facet_rfa": {"mbb_relief_percents": [85, 60]},
    "scs_trial": {"conservative_modalities": ["medications"]},
    "scs_permanent": {"trial_relief_percent": 40},
    "pump_trial": {"life_expectancy_months": 2},
    "pump_permanent": {"trial_side_effects_acceptable": False},
}


def make_requests(count: int, seed: int = 2026) -> list[tuple[str, str, dict[str, Any], int]]:
    rng = random.Random(seed)
    set_ids = list(MIX)
    weights = list(MIX.values())
    requests = []
    for _ in range(count):
        set_id = rng.choices(set_ids, weights)[0]
        answers = dict(GOOD[set_id])
        roll = rng.random()
        if roll < 0.2:  # 20 %: something missing
            for key in rng.sample(sorted(answers), k=rng.randint(1, 3)):
                answers[key] = None
        elif roll < 0.35:  # 15 %: a threshold missed
            answers.update(FAIL[set_id])
        plan = rng.choice((0, 0, 0, 1, 2))
        requests.append((set_id, rng.choice(CODES[set_id]), answers, plan))
    return requests


def run(requests: list[tuple[str, str, dict[str, Any], int]], seconds: float) -> tuple[int, float]:
    sets = catalog.CRITERIA_SETS
    done, started = 0, time.perf_counter()
    while True:
        for set_id, code, answers, plan in requests:
            evaluate(sets[set_id], code=code, answers=answers, plan_prior_sessions=plan)
        done += len(requests)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    requests = make_requests(5_000)
    run(requests[:500], 0.2)  # warm up (compiles and caches every set)
    done, elapsed = run(requests, args.seconds)
    print(f"evaluations/s: {done / elapsed:,.0f}")

    for set_id in MIX:
        only = [r for r in requests if r[0] == set_id]
        done, elapsed = run(only, args.seconds / 4)
        print(f"  {set_id:<15} evaluations/s: {done / elapsed:,.0f}")


if __name__ == "__main__":
    main()

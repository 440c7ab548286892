"""BG/NBD fit benchmark: cxloop's ``fit_bgnbd`` against lifetimes' ``BetaGeoFitter``.

Two data sets, both fitted by both in the same run:

- CDNOW: the 2,357-customer sample in ../shared/data/cdnow, summarised with
  ``summarise_transactions`` (calibration end 1997-09-30, weeks).
- Synthetic: N customers (default 1,000,000) drawn from the BG/NBD process with the
  published CDNOW parameters (seeded), first purchases spread over 12 weeks of a
  39-week window and times recorded in whole days, as dates in a purchase table
  are. It is generated once and cached in bench/out/.

Both log-likelihoods are evaluated on the original (unscaled) data: cxloop reports
its own; for lifetimes its ``_negative_log_likelihood`` is evaluated at its fitted
parameters (lifetimes fits on times rescaled to a maximum of 10, whose likelihood
differs by a constant).

    .venv/bin/python bench/bench_clv.py                  # 1,000,000 customers
    .venv/bin/python bench/bench_clv.py --customers 100000 --no-readme

Writes the figures to the "CLV" section of bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bench_report import machine, write_section

from cxloop.predict.bgnbd import fit_bgnbd, sample_bgnbd
from cxloop.predict.clv import summarise_transactions

with warnings.catch_warnings():
    # lifetimes 0.11.3 sets a pandas option that pandas 3 deprecates, on import.
    warnings.simplefilter("ignore", DeprecationWarning)
    import lifetimes
    from lifetimes import BetaGeoFitter

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
CDNOW = HERE.parents[1] / "shared" / "data" / "cdnow" / "CDNOW_sample.csv"
PUBLISHED = (0.243, 4.414, 0.793, 2.426)
SEED = 2005


@dataclass(frozen=True)
class Row:
    """One data set fitted by both."""

    name: str
    n: int
    distinct: int
    ours_s: float
    peer_s: float
    peer_weighted_s: float
    ours_ll: float
    peer_ll: float
    ours_params: tuple[float, ...]
    peer_params: tuple[float, ...]


def timed(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def cdnow_summary() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = pd.read_csv(CDNOW, dtype={"customer_id": str, "master_customer_id": str})
    summary = summarise_transactions(
        frame, customer="customer_id", date="date", calibration_end=date(1997, 9, 30)
    )
    return tuple(summary[c].to_numpy(np.float64) for c in ("frequency", "recency", "T"))  # type: ignore[return-value]


def synthetic(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    path = OUT / f"bgnbd_synthetic_{n}_seed{SEED}.npz"
    if not path.exists():
        rng = np.random.default_rng(SEED)
        age_days = 273 - rng.integers(0, 84, size=n)
        frequency, recency = sample_bgnbd(age_days / 7, PUBLISHED, rng=rng)
        recency_days = np.floor(recency * 7)
        OUT.mkdir(parents=True, exist_ok=True)
        np.savez(path, x=frequency, t_x=recency_days / 7, T=age_days / 7)
    data = np.load(path)
    return data["x"], data["t_x"], data["T"]


def peer_log_likelihood(
    fitter: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> float:
    log_params = np.log(fitter.params_[["r", "alpha", "a", "b"]].to_numpy(np.float64))
    mean_nll = BetaGeoFitter._negative_log_likelihood(
        log_params, x, t_x, T, np.ones_like(x), 0.0
    )
    return -float(mean_nll) * len(x)


def collapsed(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"x": x, "t_x": t_x, "T": T})
    return frame.groupby(["x", "t_x", "T"]).size().rename("w").reset_index()


def compare(
    name: str, data: tuple[np.ndarray, ...], repeats: int, peer_repeats: int
) -> Row:
    x, t_x, T = data
    ours_s, ours = timed(lambda: fit_bgnbd(x, t_x, T), repeats)
    peer_s, peer = timed(lambda: BetaGeoFitter().fit(x, t_x, T), peer_repeats)
    groups = collapsed(x, t_x, T)

    def peer_weighted() -> Any:
        counts = collapsed(x, t_x, T)
        return BetaGeoFitter().fit(
            counts["x"], counts["t_x"], counts["T"], weights=counts["w"]
        )

    peer_weighted_s, _ = timed(peer_weighted, peer_repeats)
    return Row(
        name=name, n=len(x), distinct=len(groups), ours_s=ours_s, peer_s=peer_s,
        peer_weighted_s=peer_weighted_s, ours_ll=ours.log_likelihood,
        peer_ll=peer_log_likelihood(peer, x, t_x, T),
        ours_params=(ours.r, ours.alpha, ours.a, ours.b),
        peer_params=tuple(float(v) for v in peer.params_[["r", "alpha", "a", "b"]]),
    )  # fmt: skip


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| data | customers | distinct (x, t_x, T) | cxloop s | lifetimes s | faster by | lifetimes with weights s | cxloop log-likelihood | lifetimes log-likelihood | same to 4 digits |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        same = f"{row.ours_ll:.4g}" == f"{row.peer_ll:.4g}"
        lines.append(
            f"| {row.name} | {row.n:,} | {row.distinct:,} | {row.ours_s:.3f} | {row.peer_s:.2f} "
            f"| {row.peer_s / row.ours_s:.1f}x | {row.peer_weighted_s:.2f} | {row.ours_ll:,.2f} "
            f"| {row.peer_ll:,.2f} | {'yes' if same else 'NO'} |"
        )
    return lines


def parameters(rows: list[Row]) -> list[str]:
    lines = []
    for row in rows:
        ours = ", ".join(f"{v:.4f}" for v in row.ours_params)
        peer = ", ".join(f"{v:.4f}" for v in row.peer_params)
        lines.append(
            f"- {row.name}: (r, alpha, a, b) cxloop ({ours}), lifetimes ({peer})"
        )
    return lines


INTRO = """## CLV

`.venv/bin/python bench/bench_clv.py` fits BG/NBD with cxloop's `fit_bgnbd` and with
lifetimes' `BetaGeoFitter.fit` (its defaults: BFGS with autograd gradients, then an
autograd Hessian for the standard errors) on the same arrays in the same run:
the CDNOW sample (2,357 customers, calibration end 1997-09-30, weeks; median of 5
runs each) and a synthetic set drawn from the BG/NBD process with the published
CDNOW parameters (seeded, cached in `bench/out/`; times recorded in whole days, as
dates are; one run each). cxloop maximises the likelihood with damped Newton steps
on its analytic gradient and Hessian, evaluated with numpy once per distinct
(x, t_x, T) history weighted by how many customers share it; "lifetimes with
weights" passes lifetimes the same collapsed rows, to show how much of the gap that
trick alone explains. Both log-likelihoods are evaluated on
the unscaled data at each fit's parameters. The machine is shared, so figures move
between runs.
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--no-readme", action="store_true", help="print only")
    args = parser.parse_args()
    rows = [compare("CDNOW sample", cdnow_summary(), repeats=5, peer_repeats=5)]
    print(f"CDNOW done: {rows[0]}", flush=True)
    rows.append(
        compare(f"synthetic {args.customers:,}", synthetic(args.customers), 3, 1)
    )
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    footer = [
        f"Machine: {machine(f'numpy {np.__version__}', f'lifetimes {lifetimes.__version__}')}; measured {date.today().isoformat()}, "
        f"load average {load} after the run (other work shared the cores).",
        f"Target: at least 10x faster than lifetimes on both: "
        f"{'met' if all(r.peer_s / r.ours_s >= 10 for r in rows) else 'NOT met'}.",
    ]
    lines = [*table(rows), "", *parameters(rows), "", *footer]
    print("\n".join(lines))
    if not args.no_readme:
        write_section("CLV", INTRO + "\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

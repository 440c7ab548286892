"""``cxloop clv fit`` on the CDNOW sample: the published fit through the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.domain.errors import InvalidInput


@pytest.fixture(scope="module")
def sample(shared_data: Path) -> Path:
    return shared_data / "cdnow" / "CDNOW_sample.csv"


def _fit(sample: Path, *extra: str) -> Any:
    arguments = [
        "clv",
        "fit",
        "--input",
        str(sample),
        "--customer-column",
        "customer_id",
        "--date-column",
        "date",
        *extra,
    ]
    return CliRunner().invoke(app, arguments)


@pytest.fixture(scope="module")
def weekly(sample: Path) -> dict[str, Any]:
    result = _fit(sample, "--calibration-end", "1997-09-30", "--json")
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.output)
    return parsed


def test_cli_json_reproduces_published_cdnow_parameters(weekly: dict[str, Any]) -> None:
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert {name: round(weekly[name], 3) for name in published} == published
    # On exact day counts / 7 (the published file rounds to two decimals):
    assert round(weekly["log_likelihood"], 2) == -9582.43
    assert weekly["n_customers"] == 2357
    assert weekly["n_transactions"] == 6919
    assert "gamma_gamma" not in weekly


def test_cli_holdout_matches_lifetimes_within_one_percent(
    weekly: dict[str, Any], sample: Path
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from lifetimes import BetaGeoFitter
        from lifetimes.utils import calibration_and_holdout_data
    transactions = pd.read_csv(sample, dtype={"customer_id": str})
    data = calibration_and_holdout_data(
        transactions,
        "customer_id",
        "date",
        calibration_period_end="1997-09-30",
        freq="D",
        freq_multiplier=7,
        monetary_value_col="dollar_value",
    )
    history = (data["frequency_cal"], data["recency_cal"], data["T_cal"])
    peer = BetaGeoFitter().fit(*history)
    predicted = peer.conditional_expected_number_of_purchases_up_to_time(
        data["duration_holdout"], *history
    ).sum()
    assert weekly["holdout_actual"] == data["frequency_holdout"].sum() == 1882
    assert weekly["holdout_duration"] == 39.0
    assert weekly["holdout_predicted"] == pytest.approx(predicted, rel=0.01)
    assert weekly["holdout_predicted"] == pytest.approx(1653.4, abs=0.1)


def test_cli_days_scale_alpha_and_shift_the_log_likelihood(
    weekly: dict[str, Any], sample: Path, shared_data: Path
) -> None:
    result = _fit(
        sample, "--calibration-end", "1997-09-30", "--time-unit", "day", "--json"
    )
    assert result.exit_code == 0, result.output
    daily = json.loads(result.output)
    for name in ("r", "a", "b"):
        assert daily[name] == pytest.approx(weekly[name], rel=1e-4)
    assert daily["alpha"] == pytest.approx(7 * weekly["alpha"], rel=1e-4)
    # Times x 7 multiply each customer's likelihood (a density in time) by 7^-x.
    summary = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary.csv")
    shift = -summary["frequency"].sum() * math.log(7)
    assert daily["log_likelihood"] - weekly["log_likelihood"] == pytest.approx(
        shift, abs=1e-3
    )
    assert daily["holdout_duration"] == 273.0


def test_cli_table_and_per_customer_csv_with_amounts(
    sample: Path, tmp_path: Path
) -> None:
    output = tmp_path / "clv.csv"
    result = _fit(
        sample,
        "--amount-column",
        "dollar_value",
        "--calibration-end",
        "1997-09-30",
        "--output",
        str(output),
        "--horizon-months",
        "6",
    )
    assert result.exit_code == 0, result.output
    for text in (
        "BG/NBD on CDNOW_sample.csv",
        "-9,582.43",
        "1,882",
        "Gamma-Gamma p",
        "6.2496",
    ):
        assert text in result.output
    scores = pd.read_csv(output, dtype={"customer_id": str}).set_index("customer_id")
    assert len(scores) == 2357
    assert scores.loc["0001", "frequency"] == 2
    assert {"p_alive", "expected_purchases", "expected_spend", "clv"} <= set(
        scores.columns
    )
    assert scores["clv"].notna().all()
    assert (scores["clv"] > 0).all()
    assert np.isclose(scores.loc["0003", "p_alive"], 1.0)


def test_cli_bad_date_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "cid,day\nA,2024-01-02\nA,2024-13-01\nB,2024-01-05\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        app,
        [
            "clv",
            "fit",
            "--input",
            str(path),
            "--customer-column",
            "cid",
            "--date-column",
            "day",
        ],
    )
    assert isinstance(result.exception, InvalidInput)
    assert str(result.exception) == (
        f"{path} line 3, column 'day': '2024-13-01' is not a date (YYYY-MM-DD)"
    )


def test_cli_entry_point_exits_2_on_an_unknown_column(sample: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "cxloop",
            "clv",
            "fit",
            "--input",
            str(sample),
            "--customer-column",
            "client",
            "--date-column",
            "date",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 2, completed.stderr
    assert "no column 'client'" in completed.stderr
    assert "'customer_id'" in completed.stderr

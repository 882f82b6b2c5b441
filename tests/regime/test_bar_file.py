"""Bars files: CSV and Parquet, bad rows set aside and reported, rolls and gaps cut, the real MCL file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regime.bar_file import _read_clean, _read_coercing, load_bar_file, symbol_from_name
from regime.contracts.bar import BarError

MCL = Path(__file__).resolve().parents[3] / "shared" / "data" / "MCL_1m_2026-01-15_2026-02-27.csv"

CSV = """ts_utc,open,high,low,close,volume,contract_approx
2026-01-15T18:49:00Z,59.06,59.07,59.03,59.04,29,MCLG26
2026-01-15T18:50:00Z,59.05,59.05,58.99,59.01,70,MCLG26
2026-01-15T18:51:00Z,59.02,59.03,58.96,58.96,49,MCLG26
2026-01-15T18:52:00Z,59.00,58.90,58.95,59.00,41,MCLG26
2026-01-15T18:53:00Z,abc,59.03,58.96,58.96,49,MCLG26
2026-01-15T18:54:30Z,59.02,59.03,58.96,58.96,49,MCLG26
not-a-date,59.02,59.03,58.96,58.96,49,MCLG26
2026-01-15T18:57:00Z,59.02,59.03,58.96,58.96,49,MCLG26
2026-01-15T18:57:00Z,59.02,59.03,58.96,58.97,50,MCLG26
2026-01-15T19:10:00Z,60.02,60.03,59.96,59.96,49,MCLH26
"""


def test_bad_rows_are_set_aside_and_named(tmp_path: Path) -> None:
    path = tmp_path / "MCL_test.csv"
    path.write_text(CSV)
    loaded = load_bar_file(path)
    assert loaded.rows == 10 and loaded.rejected_count == 4 and loaded.duplicates == 1
    assert loaded.rejected == [
        "row 5: low <= open,close <= high does not hold",
        "row 6: a price is missing, not a number or not positive",
        "row 7: timestamp is not a minute start",
        "row 8: timestamp is not a date",
    ]
    s = loaded.series
    assert s.symbol == "MCL"
    # 18:49-18:51, then 18:52-18:56 filled flat from 18:51's close... up to 18:57 (kept: the later duplicate)
    assert s.close[s.minute == s.minute[0] + 8][0] == 58.97
    assert loaded.segments == 2  # the roll to H26 cuts
    assert "4 rows set aside" in loaded.summary()


def test_parquet_reads_the_same(tmp_path: Path) -> None:
    csv = tmp_path / "CL_a.csv"
    csv.write_text(CSV)
    pq = tmp_path / "CL_a.parquet"
    pd.read_csv(csv).to_parquet(pq)
    a, b = load_bar_file(csv).series, load_bar_file(pq).series
    np.testing.assert_array_equal(a.close, b.close)
    np.testing.assert_array_equal(a.segment, b.segment)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("ts_utc,open,high,low\n2026-01-15T18:49:00Z,1,1,1\n")
    with pytest.raises(BarError, match=r"missing column.*close, volume"):
        load_bar_file(path)


def test_missing_file_is_named() -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        load_bar_file("nope.csv")


def test_symbol_from_file_name() -> None:
    assert symbol_from_name(Path("MCL_1m_2026-01-15_2026-02-27.csv")) == "MCL"


@pytest.mark.realdata
def test_the_real_mcl_file() -> None:
    loaded = load_bar_file(MCL)
    assert loaded.rows == 42171 and loaded.rejected_count == 0
    s = loaded.series
    assert s.symbol == "MCL" and 0 < loaded.filled < 1000
    # Sessions are cut by the daily break and weekends, and rolls cut inside the stitched series.
    assert 25 < loaded.segments < 60
    assert (np.diff(s.minute)[np.diff(s.segment) == 0] == 1).all()  # gap-free inside a segment


HEADER = "ts_utc,open,high,low,close,volume\n"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2026-01-15T19:00:00Z,59.02,1e300,58.96,1e300,49", "row 3: high 1e+300 is outside (0, 1e+07]"),
        ("9999-01-15T19:00:00Z,59.02,59.03,58.96,58.96,49", "row 3: ts 9999-01-15T19:00:00+00:00 is outside"),
        ("2026-01-15T19:00:00Z,59.02,59.03,58.96,58.96,1e15", "row 3: volume 1e+15 is outside"),
    ],
)
def test_a_value_outside_the_contracts_bounds_refuses_the_file(
    tmp_path: Path, row: str, message: str
) -> None:
    # 1e300 overflowed the tape (OverflowError), a bar in year 9999 moved the sim clock there: the file is
    # broken or in the wrong units, and the error names its row.
    path = tmp_path / "MCL_x.csv"
    path.write_text(HEADER + "2026-01-15T18:59:00Z,59.06,59.07,59.03,59.04,29\n" + row + "\n")
    with pytest.raises(BarError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        load_bar_file(path)


def test_a_file_without_bars_or_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "MCL_header.csv").write_text(HEADER)
    with pytest.raises(BarError, match=r"MCL_header.csv: no bars \(0 data rows\)"):
        load_bar_file(tmp_path / "MCL_header.csv")
    (tmp_path / "MCL_bad.csv").write_text(HEADER + "not-a-date,1,1,1,1,1\n")
    with pytest.raises(BarError, match=r"no bars \(1 data rows, all set aside\)"):
        load_bar_file(tmp_path / "MCL_bad.csv")
    with pytest.raises(BarError, match="not a file"):
        load_bar_file(tmp_path)


SHARED = MCL.parent


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["MCL_1m_2026-01-15_2026-02-27.csv", "MES_1m_2023.csv"])
def test_the_typed_reader_reads_what_the_coercing_reader_reads(name: str) -> None:
    """A clean file takes pyarrow's typed parser (no pandas); pandas' coercing one gives the same columns."""
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} is not present")
    typed, coerced = _read_clean(path), _read_coercing(path)
    assert typed is not None
    assert typed.names == coerced.names
    np.testing.assert_array_equal(typed.micros, coerced.micros)
    np.testing.assert_array_equal(typed.prices, coerced.prices)
    np.testing.assert_array_equal(typed.volume, coerced.volume)
    assert typed.contract is not None and coerced.contract is not None
    assert typed.contract.tolist() == coerced.contract.tolist()


def test_a_file_with_a_bad_value_takes_the_coercing_reader(tmp_path: Path) -> None:
    path = tmp_path / "MCL_test.csv"
    path.write_text(CSV)
    assert _read_clean(path) is None  # 'abc' in a price, 'not-a-date': pandas coerces, the rows are set aside
    clean = tmp_path / "MCL_clean.csv"
    clean.write_text(HEADER + "2026-01-15T18:59:00Z,59.06,59.07,59.03,59.04,29\n")
    assert _read_clean(clean) is not None


def test_a_clean_file_loads_without_pandas(tmp_path: Path) -> None:
    path = tmp_path / "MCL_clean.csv"
    path.write_text(HEADER + "2026-01-15T18:59:00Z,59.06,59.07,59.03,59.04,29\n")
    code = (
        "import sys; from regime.bar_file import load_bar_file; "
        f"assert len(load_bar_file({str(path)!r}).series) == 1; "
        "assert 'pandas' not in sys.modules, 'pandas imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_clean_parquet_file_takes_the_typed_reader(tmp_path: Path) -> None:
    csv = tmp_path / "MCL_clean.csv"
    csv.write_text(
        HEADER
        + "2026-01-15T18:59:00Z,59.06,59.07,59.03,59.04,29\n"
        + "2026-01-15T19:00:00Z,59.04,59.08,59.02,59.07,31\n"
    )
    pq = tmp_path / "MCL_clean.parquet"
    frame = pd.read_csv(csv)
    frame["ts_utc"] = pd.to_datetime(frame["ts_utc"], utc=True).astype("datetime64[ns, UTC]")
    frame.to_parquet(pq)
    typed = _read_clean(pq)
    assert typed is not None  # nanosecond timestamps, read as whole microseconds
    np.testing.assert_array_equal(typed.micros, _read_coercing(csv).micros)
    a, b = load_bar_file(csv).series, load_bar_file(pq).series
    np.testing.assert_array_equal(a.minute, b.minute)
    np.testing.assert_array_equal(a.close, b.close)

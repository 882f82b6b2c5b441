"""TradeJournal: fsynced appends, a torn tail cut at open, corrupt lines quarantined once, never read."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from regime.contracts import Fill
from tests.sample_records import sample_fill
from trader_host.cloud.spool import DiskSpool
from trading_engine.journal.journal_line import CorruptLine, decode_line, encode_line
from trading_engine.journal.ship_cursor import ShipCursor
from trading_engine.journal.trade_journal import JournalWriteError, TradeJournal


def fill(n: int) -> Fill:
    return sample_fill(n)


def ids(journal: TradeJournal, start: int = 0) -> list[str]:
    return [e.record_id for e in journal.read(start)[0]]


def quarantined(journal: TradeJournal) -> list[dict[str, object]]:
    path = journal.quarantine.path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_line_codec_refuses_torn_altered_and_non_utf8_lines() -> None:
    line = encode_line('{"a":1}')
    assert decode_line(line) == '{"a":1}'
    for bad, why in (
        (line[:-4], "checksum"),
        (line.replace(b"1", b"2"), "checksum"),
        (b"zzzzzzzz {}", "hexadecimal"),
        (b"{}", "header"),
        (encode_line("x").replace(b"x", b"\xff"), "checksum"),
    ):
        with pytest.raises(CorruptLine, match=why):
            decode_line(bad)
    body = b"\xff\xfe"
    with pytest.raises(CorruptLine, match="UTF-8"):
        decode_line(b"%08x %s" % (zlib.crc32(body), body))


def test_appends_survive_a_reopen_in_order(tmp_path: Path) -> None:
    journal = TradeJournal(tmp_path / "CL.journal")
    journal.append([fill(1), fill(2)])
    journal.append([fill(3)])
    journal.close()
    again = TradeJournal(tmp_path / "CL.journal")
    assert ids(again) == ["x1", "x2", "x3"] and again.quarantine.count == 0
    assert again.read()[0][0].record == fill(1).to_dict()


def test_a_torn_last_line_is_cut_and_quarantined_so_the_next_append_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "CL.journal"
    journal = TradeJournal(path)
    journal.append([fill(1), fill(2)])
    journal.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20])  # killed in the middle of writing x2
    again = TradeJournal(path)
    again.append([fill(3)])
    assert ids(again) == ["x1", "x3"]
    (entry,) = quarantined(again)
    assert "torn" in str(entry["reason"])
    TradeJournal(path)  # a second open finds nothing more to cut, reports nothing twice
    assert len(quarantined(again)) == 1


def test_a_corrupt_or_non_utf8_line_in_the_middle_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "CL.journal"
    journal = TradeJournal(path)
    journal.append([fill(1), fill(2), fill(3)])
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1][:30] + b"\xff\xfe" + lines[1][32:]  # one bad byte pair inside x2
    path.write_bytes(b"".join(lines))
    assert ids(journal) == ["x1", "x3"]
    assert ids(journal) == ["x1", "x3"] and len(quarantined(journal)) == 1  # reported once
    lines[0] = b'{"kind":"fill"}\n'  # valid JSON, but no checksum: never trusted
    path.write_bytes(b"".join(lines))
    assert ids(journal) == ["x3"]


def test_an_incomplete_line_being_written_is_left_for_the_next_read(tmp_path: Path) -> None:
    path = tmp_path / "CL.journal"
    journal = TradeJournal(path)
    journal.append([fill(1)])
    whole = encode_line(json.dumps({"kind": "fill", "record": fill(2).to_dict()}))
    with path.open("ab") as fh:
        fh.write(whole[:25])  # another thread's append, half done
    entries, end = journal.read()
    assert [e.record_id for e in entries] == ["x1"] and journal.quarantine.count == 0
    with path.open("ab") as fh:
        fh.write(whole[25:])
    assert ids(journal, end) == ["x2"]


def test_a_full_disk_raises_and_keeps_no_half_line(tmp_path: Path) -> None:
    path = tmp_path / "CL.journal"
    journal = TradeJournal(path)
    journal.append([fill(1)])
    journal._fh.close()
    journal._fh = open("/dev/full", "ab")  # noqa: SIM115 - the kernel's own "no space left on device"
    with pytest.raises(JournalWriteError, match="No space left"):
        journal.append([fill(2)])
    journal.append([fill(3)])  # the disk has room again
    assert ids(journal) == ["x1", "x3"]


def test_ship_cursor_is_atomic_and_only_moves_forward(tmp_path: Path) -> None:
    cursor = ShipCursor(tmp_path / "CL.journal.shipped")
    assert cursor.offset == 0
    cursor.advance(120)
    cursor.advance(50)
    assert ShipCursor(tmp_path / "CL.journal.shipped").offset == 120
    (tmp_path / "CL.journal.shipped").write_text("garbage")
    assert ShipCursor(tmp_path / "CL.journal.shipped").offset == 0  # re-send all: duplicates, never a loss


def test_a_truncated_or_non_utf8_spool_line_is_quarantined_never_sent_never_fatal(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, "bars-x")
    spool.append(['{"symbol":"CL","n":1}', '{"symbol":"CL","n":2}', '{"symbol":"CL","n":3}'])
    lines = spool.path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1][:12] + b"\xff" + lines[1][13:]
    spool.path.write_bytes(b"".join(lines) + lines[2][:9])  # and a torn tail
    restarted = DiskSpool(tmp_path, "bars-x")  # the restart that used to die on the same line every time
    sent: list[str] = []

    def send(batch: list[str]) -> list[str]:
        sent.extend(batch)
        return []

    assert restarted.replay(send) == 2
    assert [json.loads(s)["n"] for s in sent] == [1, 3]
    assert len(restarted) == 0 and restarted.quarantine.count == 2


def test_order_outcomes_and_risk_events_are_journaled_with_their_ids(tmp_path: Path) -> None:
    from tests.trader_host.analytics.hand_lake import orders, risk_events

    journal = TradeJournal(tmp_path / "CL.journal")
    outcome, event = orders()[4], risk_events()[1]
    journal.append([fill(1), outcome, event])
    entries = TradeJournal(tmp_path / "CL.journal").read()[0]
    assert [(e.kind, e.record_id) for e in entries] == [
        ("fill", "x1"),
        ("order", "oX1"),
        ("risk_event", "CL:loss-limit:2026-01-20"),
    ]
    assert entries[1].record == outcome.to_dict() and entries[2].record == event.to_dict()


def test_a_journal_written_before_the_new_kinds_reads_as_before(tmp_path: Path) -> None:
    # The lines an older host wrote: fills and round trips only, in the same line format.
    from tests.sample_records import sample_trip

    path = tmp_path / "CL.journal"
    old = [("fill", fill(1).to_dict()), ("round_trip", sample_trip(1).to_dict())]
    path.write_bytes(b"".join(encode_line(json.dumps({"kind": k, "record": r})) for k, r in old))
    journal = TradeJournal(path)
    assert [(e.kind, e.record_id) for e in journal.read()[0]] == [("fill", "x1"), ("round_trip", "rt-x1")]
    assert journal.quarantine.count == 0


def test_an_unknown_kind_or_a_record_without_its_id_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "CL.journal"
    lines = [
        {"kind": "order", "record": {"symbol": "CL"}},  # no order_id
        {"kind": "risk_event", "record": {"event_id": "CL:kill:2026-01-13"}},
        {"kind": "quote", "record": {"id": 1}},
    ]
    path.write_bytes(b"".join(encode_line(json.dumps(doc)) for doc in lines))
    journal = TradeJournal(path)
    assert [e.record_id for e in journal.read()[0]] == ["CL:kill:2026-01-13"]
    reasons = [q["reason"] for q in quarantined(journal)]
    assert reasons == ["bad record: 'order_id'", "bad record: unknown kind 'quote'"]

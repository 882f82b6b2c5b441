-- Every round trip once, in exit order: entry and exit times, the time held, side, the regime at entry, how it
-- ended, ticks and USD (the report's trade list, and its per-trip equity, streaks and ratios).
SELECT symbol,
       trip_id,
       side,
       qty,
       entry_ts,
       exit_ts,
       date_diff('second', from_iso8601_timestamp(entry_ts), from_iso8601_timestamp(exit_ts)) AS held_s,
       regime,
       exit_reason,
       pnl_ticks,
       gross_usd,
       fees_usd,
       net_usd
FROM (
    SELECT t.*, row_number() OVER (PARTITION BY t.trip_id ORDER BY t.hour) AS copy_no
    FROM round_trips t
) AS numbered
WHERE copy_no = 1
ORDER BY symbol, exit_ts, trip_id

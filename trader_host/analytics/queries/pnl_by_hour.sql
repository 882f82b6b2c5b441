-- P&L by hour of day (UTC) of the entry, per symbol, each round trip counted once.
SELECT symbol,
       hour(from_iso8601_timestamp(entry_ts)) AS entry_hour_utc,
       count(*) AS round_trips,
       count_if(pnl_ticks > 0) AS wins,
       round(avg(CAST(pnl_ticks AS double) / qty), 4) AS ticks_per_trip,
       sum(gross_usd) AS gross_usd,
       sum(fees_usd) AS fees_usd,
       sum(net_usd) AS net_usd
FROM (
    SELECT t.*, row_number() OVER (PARTITION BY t.trip_id ORDER BY t.hour) AS copy_no
    FROM round_trips t
) AS numbered
WHERE copy_no = 1
GROUP BY symbol, hour(from_iso8601_timestamp(entry_ts))
ORDER BY symbol, entry_hour_utc

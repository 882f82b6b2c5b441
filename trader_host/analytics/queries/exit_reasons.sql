-- How round trips ended, per symbol and regime at entry: target, trail, stale-to-market (a stale exit order
-- that was replaced by a market order), flatten, kill; each round trip counted once.
SELECT symbol,
       regime,
       exit_reason,
       count(*) AS round_trips,
       round(avg(CAST(pnl_ticks AS double) / qty), 4) AS ticks_per_trip,
       sum(gross_usd) AS gross_usd,
       sum(fees_usd) AS fees_usd,
       sum(net_usd) AS net_usd
FROM (
    SELECT t.*, row_number() OVER (PARTITION BY t.trip_id ORDER BY t.hour) AS copy_no
    FROM round_trips t
) AS numbered
WHERE copy_no = 1
GROUP BY symbol, regime, exit_reason
ORDER BY symbol, regime, exit_reason

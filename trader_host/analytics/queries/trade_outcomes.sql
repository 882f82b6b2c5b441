-- Distribution of trade outcomes: round trips per whole ticks per contract, per symbol and regime at entry.
SELECT symbol,
       regime,
       CAST(round(CAST(pnl_ticks AS double) / qty) AS integer) AS ticks,
       count(*) AS round_trips,
       sum(net_usd) AS net_usd
FROM (
    SELECT t.*, row_number() OVER (PARTITION BY t.trip_id ORDER BY t.hour) AS copy_no
    FROM round_trips t
) AS numbered
WHERE copy_no = 1
GROUP BY symbol, regime, CAST(round(CAST(pnl_ticks AS double) / qty) AS integer)
ORDER BY symbol, regime, ticks

-- The article's statistics table, per symbol, from deduplicated round trips and fills.
-- Wins, losses and scratches with their average ticks per contract; average ticks per round trip; round
-- turns per hour of market observed (archived minute bars / 60); nominal value traded per trading day (every
-- fill, both sides, as the article counts it); gross, fees and net; net return on the margin posted.
-- Edit `spec` when the margin or a contract changes. A trading day is CME's: it ends at 17:00 New York.
WITH spec (symbol, multiplier, margin_usd) AS (
    VALUES ('CL', 1000, 5000.0), ('MCL', 100, 500.0), ('MES', 5, 1500.0)
),
trips AS (
    SELECT * FROM (
        SELECT t.*, row_number() OVER (PARTITION BY t.trip_id ORDER BY t.hour) AS copy_no
        FROM round_trips t
    ) AS numbered WHERE copy_no = 1
),
fills_once AS (
    SELECT * FROM (
        SELECT f.*, row_number() OVER (PARTITION BY f.execution_id ORDER BY f.hour) AS copy_no
        FROM fills f
    ) AS numbered WHERE copy_no = 1
),
market_hours AS (
    SELECT symbol, CAST(count(DISTINCT ts) AS double) / 60 AS hours FROM bars GROUP BY symbol
),
traded AS (
    SELECT f.symbol,
           count(DISTINCT date(at_timezone(from_iso8601_timestamp(f.ts), 'America/New_York')
                               + INTERVAL '7' HOUR)) AS trading_days,
           sum(CAST(f.price AS double) * f.qty * s.multiplier) AS nominal_usd
    FROM fills_once f JOIN spec s ON s.symbol = f.symbol
    GROUP BY f.symbol
),
per_trip AS (
    SELECT symbol, pnl_ticks, qty, gross_usd, fees_usd, net_usd,
           CAST(pnl_ticks AS double) / qty AS ticks_per_contract
    FROM trips
)
SELECT p.symbol,
       count(*) AS round_trips,
       count_if(p.pnl_ticks > 0) AS wins,
       round(CAST(count_if(p.pnl_ticks > 0) AS double) / count(*), 4) AS win_share,
       round(avg(CASE WHEN p.pnl_ticks > 0 THEN p.ticks_per_contract END), 4) AS avg_win_ticks,
       count_if(p.pnl_ticks < 0) AS losses,
       round(CAST(count_if(p.pnl_ticks < 0) AS double) / count(*), 4) AS loss_share,
       round(avg(CASE WHEN p.pnl_ticks < 0 THEN p.ticks_per_contract END), 4) AS avg_loss_ticks,
       count_if(p.pnl_ticks = 0) AS scratches,
       round(CAST(count_if(p.pnl_ticks = 0) AS double) / count(*), 4) AS scratch_share,
       round(avg(p.ticks_per_contract), 4) AS ticks_per_trip,
       round(max(h.hours), 4) AS hours,
       round(count(*) / max(h.hours), 4) AS round_turns_per_hour,
       max(t.trading_days) AS trading_days,
       round(max(t.nominal_usd) / max(t.trading_days), 2) AS nominal_usd_per_day,
       sum(p.gross_usd) AS gross_usd,
       sum(p.fees_usd) AS fees_usd,
       sum(p.net_usd) AS net_usd,
       max(s.margin_usd) AS margin_usd,
       round(CAST(sum(p.net_usd) AS double) / max(s.margin_usd), 6) AS return_on_margin
FROM per_trip p
LEFT JOIN spec s ON s.symbol = p.symbol
LEFT JOIN market_hours h ON h.symbol = p.symbol
LEFT JOIN traded t ON t.symbol = p.symbol
GROUP BY p.symbol
ORDER BY p.symbol

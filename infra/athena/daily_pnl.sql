-- Daily P&L per symbol and CME trading day (which ends at 17:00 New York), the equity curve (cumulative net
-- after each day), the drawdown from the running peak, the maximum drawdown so far (measured trip by trip,
-- from a start at zero), and whether the daily loss limit stopped trading that day.
-- The risk gate flattens and stops entries when the day's realised net plus the open P&L reaches
-- -max_daily_loss_usd (config/strategy.toml). Round trips carry no marker of that, so a day counts as stopped
-- when its last round trip exited by `flatten` with the day's realised net at or below `stop_share` of the
-- limit: the gate counts the open loss too, so the realised loss at its flatten can sit a little short of it.
WITH params (max_daily_loss_usd, stop_share) AS (
    VALUES (300.0, 0.9)
),
trips AS (
    SELECT * FROM (
        SELECT t.*, row_number() OVER (PARTITION BY t.trip_id ORDER BY t.hour) AS copy_no
        FROM round_trips t
    ) AS numbered WHERE copy_no = 1
),
dated AS (
    SELECT symbol, trip_id, exit_ts, exit_reason, pnl_ticks, qty, gross_usd, fees_usd, net_usd,
           date(at_timezone(from_iso8601_timestamp(exit_ts), 'America/New_York') + INTERVAL '7' HOUR)
               AS trading_day
    FROM trips
),
running AS (
    SELECT d.*,
           sum(net_usd) OVER (PARTITION BY symbol ORDER BY exit_ts, trip_id
                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS equity_usd,
           sum(net_usd) OVER (PARTITION BY symbol, trading_day ORDER BY exit_ts, trip_id
                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS day_net_usd,
           row_number() OVER (PARTITION BY symbol, trading_day ORDER BY exit_ts DESC, trip_id DESC)
               AS from_last
    FROM dated d
),
peaks AS (
    SELECT r.*,
           greatest(0, max(equity_usd) OVER (PARTITION BY symbol ORDER BY exit_ts, trip_id
                                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS peak_usd
    FROM running r
),
drawdowns AS (
    SELECT p.*,
           max(peak_usd - equity_usd) OVER (PARTITION BY symbol ORDER BY exit_ts, trip_id
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
               AS max_drawdown_usd
    FROM peaks p
)
SELECT d.symbol,
       d.trading_day,
       count(*) AS round_trips,
       sum(d.gross_usd) AS gross_usd,
       sum(d.fees_usd) AS fees_usd,
       sum(d.net_usd) AS net_usd,
       max(CASE WHEN d.from_last = 1 THEN d.equity_usd END) AS equity_usd,
       max(CASE WHEN d.from_last = 1 THEN d.peak_usd - d.equity_usd END) AS drawdown_usd,
       max(d.max_drawdown_usd) AS max_drawdown_usd,
       min(d.day_net_usd) AS worst_day_net_usd,
       coalesce(bool_or(d.from_last = 1 AND d.exit_reason = 'flatten'
                        AND d.day_net_usd <= -p.max_daily_loss_usd * p.stop_share), false) AS loss_limit_stop
FROM drawdowns d
CROSS JOIN params p
GROUP BY d.symbol, d.trading_day
ORDER BY d.symbol, d.trading_day

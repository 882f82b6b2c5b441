-- Daily P&L per symbol and CME trading day (which ends at 17:00 New York), the equity curve (cumulative net
-- after each day), the drawdown from the running peak, the maximum drawdown so far (measured trip by trip,
-- from a start at zero), and whether the risk gate stopped trading that day: `loss_limit_stop` when its daily
-- loss limit tripped (with the day's net, open P&L included, at that moment), `killed` when a kill halted the
-- host. Both come from the gate's own events (risk_events, one per symbol, kind and trading day), not inferred.
WITH trips AS (
    SELECT * FROM (
        SELECT t.*, row_number() OVER (PARTITION BY t.trip_id ORDER BY t.hour) AS copy_no
        FROM round_trips t
    ) AS numbered WHERE copy_no = 1
),
events AS (
    SELECT * FROM (
        SELECT e.*, row_number() OVER (PARTITION BY e.event_id ORDER BY e.ts, e.hour) AS copy_no
        FROM risk_events e
    ) AS numbered WHERE copy_no = 1
),
stops AS (
    SELECT symbol,
           CAST(trading_day AS date) AS trading_day,
           bool_or(kind = 'loss-limit') AS loss_limit_stop,
           min(CASE WHEN kind = 'loss-limit' THEN day_net_usd END) AS loss_limit_day_net_usd,
           bool_or(kind = 'kill') AS killed
    FROM events
    GROUP BY symbol, CAST(trading_day AS date)
),
dated AS (
    SELECT symbol, trip_id, exit_ts, pnl_ticks, qty, gross_usd, fees_usd, net_usd,
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
),
days AS (
    SELECT symbol,
           trading_day,
           count(*) AS round_trips,
           sum(gross_usd) AS gross_usd,
           sum(fees_usd) AS fees_usd,
           sum(net_usd) AS net_usd,
           max(CASE WHEN from_last = 1 THEN equity_usd END) AS equity_usd,
           max(CASE WHEN from_last = 1 THEN peak_usd - equity_usd END) AS drawdown_usd,
           max(max_drawdown_usd) AS max_drawdown_usd,
           min(day_net_usd) AS worst_day_net_usd
    FROM drawdowns
    GROUP BY symbol, trading_day
)
SELECT d.symbol,
       d.trading_day,
       d.round_trips,
       d.gross_usd,
       d.fees_usd,
       d.net_usd,
       d.equity_usd,
       d.drawdown_usd,
       d.max_drawdown_usd,
       d.worst_day_net_usd,
       coalesce(s.loss_limit_stop, false) AS loss_limit_stop,
       s.loss_limit_day_net_usd,
       coalesce(s.killed, false) AS killed
FROM days d
LEFT JOIN stops s ON s.symbol = d.symbol AND s.trading_day = d.trading_day
ORDER BY d.symbol, d.trading_day

-- Execution quality per symbol, role (entry or exit) and order type (limit or market; a market exit is a
-- stale limit exit that went to market, or a stop sent at market): signal-to-ack and signal-to-fill latency
-- in milliseconds, and slippage in ticks against the price the signal saw (positive: worse for us, a buy
-- above it or a sell below it). Fills from a host that does not record the signal yet count in `fills` and
-- leave the averages NULL. Each execution counted once.
WITH spec (symbol, tick_size) AS (
    VALUES ('CL', 0.01), ('MCL', 0.01), ('MES', 0.25)
),
fills_once AS (
    SELECT * FROM (
        SELECT f.*, row_number() OVER (PARTITION BY f.execution_id ORDER BY f.hour) AS copy_no
        FROM fills f
    ) AS numbered WHERE copy_no = 1
),
measured AS (
    SELECT f.symbol, f.role, coalesce(nullif(f.order_type, ''), 'unknown') AS order_type, f.qty,
           date_diff('millisecond', from_iso8601_timestamp(f.signal_ts), from_iso8601_timestamp(f.ack_ts))
               AS signal_to_ack_ms,
           date_diff('millisecond', from_iso8601_timestamp(f.signal_ts), from_iso8601_timestamp(f.ts))
               AS signal_to_fill_ms,
           CAST((f.price - f.signal_price) / s.tick_size AS double)
               * CASE f.side WHEN 'BUY' THEN 1 ELSE -1 END AS slippage_ticks
    FROM fills_once f
    LEFT JOIN spec s ON s.symbol = f.symbol
)
SELECT symbol,
       role,
       order_type,
       count(*) AS fills,
       sum(qty) AS contracts,
       count(signal_to_fill_ms) AS with_signal,
       round(avg(signal_to_ack_ms), 1) AS avg_signal_to_ack_ms,
       max(signal_to_ack_ms) AS max_signal_to_ack_ms,
       round(avg(signal_to_fill_ms), 1) AS avg_signal_to_fill_ms,
       max(signal_to_fill_ms) AS max_signal_to_fill_ms,
       round(avg(slippage_ticks), 4) AS avg_slippage_ticks,
       max(slippage_ticks) AS worst_slippage_ticks
FROM measured
GROUP BY symbol, role, order_type
ORDER BY symbol, role, order_type

-- Execution quality per symbol, role (entry or exit) and order type (limit or market; a market exit is a
-- stale limit exit that went to market, or a stop sent at market): signal-to-ack and signal-to-fill latency
-- in milliseconds, and slippage in ticks against the price the signal saw (positive: worse for us, a buy
-- above it or a sell below it). Fills from a host that does not record the signal yet count in `fills` and
-- leave the averages NULL. Each execution counted once.
-- Beside them, the fate of the orders (the host's order outcomes, each order once): how many were filled,
-- cancelled or rejected, and of those that went stale (no complete fill within the timeout, so a cancel was
-- sent) how many were cancelled (a stale entry given up; a stale exit replaced by a market order) and how
-- many filled late (before the cancel took effect). An order's newest revision counts (an execution reported
-- after its cancel was confirmed revises the outcome: the cancel lost the race).
WITH spec (symbol, tick_size) AS (
    VALUES ('CL', 0.01), ('MCL', 0.01), ('MES', 0.25)
),
fills_once AS (
    SELECT * FROM (
        SELECT f.*, row_number() OVER (PARTITION BY f.execution_id ORDER BY f.hour) AS copy_no
        FROM fills f
    ) AS numbered WHERE copy_no = 1
),
orders_once AS (
    SELECT * FROM (
        SELECT o.*, row_number() OVER (PARTITION BY o.order_id ORDER BY coalesce(o.revision, 0) DESC, o.hour)
                        AS copy_no
        FROM orders o
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
),
by_fills AS (
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
),
by_orders AS (
    SELECT symbol,
           role,
           order_type,
           count(*) AS orders,
           count_if(final_state = 'filled') AS filled,
           count_if(final_state = 'cancelled') AS cancelled,
           count_if(final_state = 'rejected') AS rejected,
           count_if(stale) AS stale,
           count_if(stale AND final_state = 'cancelled') AS stale_cancelled,
           count_if(stale AND final_state = 'filled') AS stale_filled_late
    FROM orders_once
    GROUP BY symbol, role, order_type
)
SELECT coalesce(f.symbol, o.symbol) AS symbol,
       coalesce(f.role, o.role) AS role,
       coalesce(f.order_type, o.order_type) AS order_type,
       coalesce(f.fills, 0) AS fills,
       coalesce(f.contracts, 0) AS contracts,
       coalesce(f.with_signal, 0) AS with_signal,
       f.avg_signal_to_ack_ms,
       f.max_signal_to_ack_ms,
       f.avg_signal_to_fill_ms,
       f.max_signal_to_fill_ms,
       f.avg_slippage_ticks,
       f.worst_slippage_ticks,
       coalesce(o.orders, 0) AS orders,
       coalesce(o.filled, 0) AS filled,
       coalesce(o.cancelled, 0) AS cancelled,
       coalesce(o.rejected, 0) AS rejected,
       coalesce(o.stale, 0) AS stale,
       coalesce(o.stale_cancelled, 0) AS stale_cancelled,
       coalesce(o.stale_filled_late, 0) AS stale_filled_late
FROM by_fills f
FULL OUTER JOIN by_orders o ON o.symbol = f.symbol AND o.role = f.role AND o.order_type = f.order_type
ORDER BY 1, 2, 3

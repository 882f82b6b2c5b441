-- P&L by the regime at entry and the confidence of the ML decision behind it, per symbol, gross, fees and net
-- side by side. The decision is the one the host traded on: its key (symbol, window_end) is on the trip's
-- first entry fill. Records without it (older hosts, orders placed elsewhere) take the decision in force at
-- entry: the newest one that was computed by then and still valid. Decisions are deduplicated on their key.
-- The confidence is that of the traded regime's hemisphere (the sum of the agreeing models' probabilities,
-- 1 to 3), bucketed by 0.5. No decision: bucket 'none'.
WITH trips AS (
    SELECT * FROM (
        SELECT t.*, row_number() OVER (PARTITION BY t.trip_id ORDER BY t.hour) AS copy_no
        FROM round_trips t
    ) AS numbered WHERE copy_no = 1
),
decisions AS (
    SELECT * FROM (
        SELECT r.*, row_number() OVER (PARTITION BY r.symbol, r.window_end ORDER BY r.computed_at DESC, r.hour)
                        AS copy_no
        FROM regimes r
    ) AS numbered WHERE copy_no = 1
),
entry_decisions AS (
    SELECT * FROM (
        SELECT f.execution_id, f.decision_window_end,
               row_number() OVER (PARTITION BY f.execution_id ORDER BY f.hour) AS copy_no
        FROM fills f
        WHERE f.role = 'entry' AND f.decision_window_end IS NOT NULL
    ) AS numbered WHERE copy_no = 1
),
by_key AS (
    SELECT t.trip_id,
           CASE t.regime WHEN 'trend' THEN d.trend_confidence WHEN 'range' THEN d.range_confidence END
               AS confidence
    FROM trips t
    JOIN entry_decisions f ON f.execution_id = element_at(t.entry_execution_ids, 1)
    JOIN decisions d
      ON d.symbol = t.symbol
     AND from_iso8601_timestamp(d.window_end) = from_iso8601_timestamp(f.decision_window_end)
),
trip_hours AS (
    -- A decision lives 5 minutes, so the one in force was computed in the entry's hour or the hour before:
    -- joining on those two hours keeps the join an equi-join (a range join over a year takes seconds).
    SELECT t.trip_id, t.symbol, t.regime, t.entry_ts, k.hour_key
    FROM trips t
    CROSS JOIN UNNEST(ARRAY[
        date_trunc('hour', from_iso8601_timestamp(t.entry_ts)),
        date_trunc('hour', from_iso8601_timestamp(t.entry_ts)) - INTERVAL '1' HOUR
    ]) AS k (hour_key)
),
by_time AS (
    SELECT * FROM (
        SELECT t.trip_id,
               CASE t.regime WHEN 'trend' THEN d.trend_confidence WHEN 'range' THEN d.range_confidence END
                   AS confidence,
               row_number() OVER (PARTITION BY t.trip_id ORDER BY d.window_end DESC) AS newest
        FROM trip_hours t
        JOIN decisions d
          ON d.symbol = t.symbol
         AND d.regime = t.regime
         AND date_trunc('hour', from_iso8601_timestamp(d.computed_at)) = t.hour_key
         AND from_iso8601_timestamp(d.computed_at) <= from_iso8601_timestamp(t.entry_ts)
         AND from_iso8601_timestamp(d.valid_until) > from_iso8601_timestamp(t.entry_ts)
    ) AS ranked WHERE newest = 1
),
with_confidence AS (
    SELECT t.*, coalesce(k.confidence, w.confidence) AS confidence
    FROM trips t
    LEFT JOIN by_key k ON k.trip_id = t.trip_id
    LEFT JOIN by_time w ON w.trip_id = t.trip_id
),
bucketed AS (
    SELECT *,
           CASE WHEN confidence IS NULL THEN 'none'
                ELSE CAST(CAST(floor(confidence * 2) / 2 AS decimal(3, 1)) AS varchar) || '-'
                     || CAST(CAST(floor(confidence * 2) / 2 + 0.5 AS decimal(3, 1)) AS varchar)
           END AS confidence_bucket
    FROM with_confidence
)
SELECT symbol,
       regime,
       confidence_bucket,
       count(*) AS round_trips,
       count_if(pnl_ticks > 0) AS wins,
       round(avg(CAST(pnl_ticks AS double) / qty), 4) AS ticks_per_trip,
       sum(gross_usd) AS gross_usd,
       sum(fees_usd) AS fees_usd,
       sum(net_usd) AS net_usd
FROM bucketed
GROUP BY symbol, regime, confidence_bucket
ORDER BY symbol, regime, confidence_bucket

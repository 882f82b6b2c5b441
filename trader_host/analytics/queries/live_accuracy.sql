-- Live accuracy of the regime model, per symbol and model version: every decision (deduplicated on symbol +
-- window_end) against the labels realised by the archived bars that followed it, with the training rule of
-- regime.labels: at the decision's last bar t, mean = mean close of bars t-4..t and atr = the simple mean of
-- the true range over bars t-13..t (floored at one tick); range = every high and low of bars t+1..t+5 inside
-- mean +- range_z * atr; trend = |least-squares slope of closes t+1..t+5| * 5 >= trend_k * atr.
-- A decision is labelled only when the 20 minutes t-14..t+5 are all archived (training fills short holes with
-- flat bars; here a hole leaves the decision unlabelled). Each hemisphere's accuracy stands beside its base
-- rate and the majority-class baseline: an accuracy alone says nothing.
WITH params (range_z, trend_k) AS (
    VALUES (2.0, 1.5)
),
spec (symbol, tick_size) AS (
    VALUES ('CL', 0.01), ('MCL', 0.01), ('MES', 0.25)
),
bars_once AS (
    SELECT * FROM (
        SELECT b.*, row_number() OVER (PARTITION BY b.symbol, b.ts ORDER BY b.hour) AS copy_no
        FROM bars b
    ) AS numbered WHERE copy_no = 1
),
ranges AS (
    SELECT symbol, ts, high, low, close,
           greatest(high - low,
                    abs(high - lag(close) OVER w),
                    abs(low - lag(close) OVER w)) AS true_range,
           lag(ts, 14) OVER w AS first_ts,
           lead(ts, 5) OVER w AS last_ts,
           lead(close, 1) OVER w AS c1, lead(close, 2) OVER w AS c2, lead(close, 4) OVER w AS c4,
           lead(close, 5) OVER w AS c5
    FROM bars_once
    WINDOW w AS (PARTITION BY symbol ORDER BY ts)
),
windows AS (
    SELECT r.symbol, r.ts, r.first_ts, r.last_ts,
           avg(close) OVER (PARTITION BY symbol ORDER BY ts ROWS BETWEEN 4 PRECEDING AND CURRENT ROW)
               AS past_mean,
           avg(true_range) OVER (PARTITION BY symbol ORDER BY ts ROWS BETWEEN 13 PRECEDING AND CURRENT ROW)
               AS mean_true_range,
           max(high) OVER (PARTITION BY symbol ORDER BY ts ROWS BETWEEN 1 FOLLOWING AND 5 FOLLOWING) AS next_high,
           min(low) OVER (PARTITION BY symbol ORDER BY ts ROWS BETWEEN 1 FOLLOWING AND 5 FOLLOWING) AS next_low,
           (-2 * c1 - c2 + c4 + 2 * c5) / 10 AS next_slope
    FROM ranges r
),
labels AS (
    SELECT w.symbol, w.ts,
           w.next_high <= w.past_mean + p.range_z * greatest(w.mean_true_range, s.tick_size)
               AND w.next_low >= w.past_mean - p.range_z * greatest(w.mean_true_range, s.tick_size)
               AS range_label,
           abs(w.next_slope) * 5 >= p.trend_k * greatest(w.mean_true_range, s.tick_size) AS trend_label
    FROM windows w
    JOIN spec s ON s.symbol = w.symbol
    CROSS JOIN params p
    WHERE w.first_ts IS NOT NULL AND w.last_ts IS NOT NULL
      AND date_diff('minute', from_iso8601_timestamp(w.first_ts), from_iso8601_timestamp(w.last_ts)) = 19
),
decisions AS (
    SELECT * FROM (
        SELECT r.*, row_number() OVER (PARTITION BY r.symbol, r.window_end ORDER BY r.computed_at DESC, r.hour)
                        AS copy_no
        FROM regimes r
    ) AS numbered WHERE copy_no = 1
),
judged AS (
    SELECT d.symbol, d.model_version, d.regime, d.trend_vote, d.range_vote, l.trend_label, l.range_label
    FROM decisions d
    LEFT JOIN labels l
      ON l.symbol = d.symbol
     AND from_iso8601_timestamp(l.ts) + INTERVAL '1' MINUTE = from_iso8601_timestamp(d.window_end)
)
SELECT symbol,
       model_version,
       count(*) AS decisions,
       count(trend_label) AS labelled,
       round(CAST(count_if(regime = 'trend') AS double) / count(*), 4) AS trend_share,
       round(CAST(count_if(regime = 'range') AS double) / count(*), 4) AS range_share,
       round(CAST(count_if(regime = 'nothing') AS double) / count(*), 4) AS nothing_share,
       round(CAST(count_if(trend_vote = trend_label) AS double) / nullif(count(trend_label), 0), 4)
           AS trend_accuracy,
       round(CAST(count_if(trend_label) AS double) / nullif(count(trend_label), 0), 4) AS trend_base_rate,
       round(CAST(greatest(count_if(trend_label), count_if(NOT trend_label)) AS double)
             / nullif(count(trend_label), 0), 4) AS trend_baseline,
       round(CAST(count_if(range_vote = range_label) AS double) / nullif(count(range_label), 0), 4)
           AS range_accuracy,
       round(CAST(count_if(range_label) AS double) / nullif(count(range_label), 0), 4) AS range_base_rate,
       round(CAST(greatest(count_if(range_label), count_if(NOT range_label)) AS double)
             / nullif(count(range_label), 0), 4) AS range_baseline,
       round(CAST(count_if((regime = 'trend' AND trend_label) OR (regime = 'range' AND range_label)
                           OR (regime = 'nothing' AND NOT trend_label AND NOT range_label)) AS double)
             / nullif(count(trend_label), 0), 4) AS regime_accuracy
FROM judged
GROUP BY symbol, model_version
ORDER BY symbol, model_version

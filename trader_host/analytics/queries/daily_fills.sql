-- Fills and commissions per UTC day and symbol, each execution counted once (at-least-once delivery).
SELECT symbol,
       substr(ts, 1, 10) AS day,
       count(*) AS fills,
       sum(qty) AS contracts,
       sum(commission_usd) AS commission_usd
FROM (
    SELECT f.*, row_number() OVER (PARTITION BY f.execution_id ORDER BY f.hour) AS copy_no
    FROM fills f
) AS numbered
WHERE copy_no = 1
GROUP BY symbol, substr(ts, 1, 10)
ORDER BY symbol, day

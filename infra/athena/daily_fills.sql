-- Fills per day and symbol, deduplicated on the execution id (placeholder; the analytics issue fills it in).
SELECT symbol, substr(ts, 1, 10) AS day, count(DISTINCT execution_id) AS fills,
       sum(commission_usd) AS commission_usd
FROM fills
GROUP BY symbol, substr(ts, 1, 10)

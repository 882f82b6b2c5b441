-- P&L by regime: gross, fees and net side by side (placeholder; the analytics issue fills it in).
SELECT regime,
       count(*) AS round_trips,
       sum(gross_usd) AS gross_usd,
       sum(fees_usd) AS fees_usd,
       sum(net_usd) AS net_usd
FROM round_trips
GROUP BY regime

-- Decisions per regime and model version (placeholder; the analytics issue adds live accuracy).
SELECT symbol, model_version, regime, count(*) AS decisions
FROM regimes
GROUP BY symbol, model_version, regime

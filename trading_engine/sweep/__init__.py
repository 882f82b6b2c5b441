"""`regime-trader sweep`: walk-forward parameter sweeps with overfitting control."""

"""Subcommands of `regime-trader`, one module each."""

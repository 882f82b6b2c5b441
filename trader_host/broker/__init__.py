"""The broker port (one async interface) and its adapters: `sim` now, `ib` later."""

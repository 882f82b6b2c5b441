"""The live host's composition root: `assemble` joins the broker, the Trader, the journal and the cloud.

Each piece has one job: `broker_choice` (the sim or the IB adapter, and an IB start's evidence gate),
`cloud_wiring` (the stack's adapters on an explicit `AwsAccess`), `strategy_overrides` (the operator's SSM
overrides of `[strategy]`), and `live_host` which puts them together for `regime-trader run`.
"""

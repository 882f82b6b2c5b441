"""The embedded demo: a simulated trading day through the real path on a local cloud (`regime-trader demo`).

`model` trains the ensemble once per set of training arguments, `cloud` stands the stack up on a moto server
it owns (and stops it), `clock` steps that cloud in the host's virtual time, `day` runs the host built by
`run`'s composition root through it, `analytics` runs the Athena queries over what landed in the local S3.
"""

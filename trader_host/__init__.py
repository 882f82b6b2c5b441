"""The always-on live host: the IB adapter, the cloud adapters, the live monitor, analytics and the CLI."""

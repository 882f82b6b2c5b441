"""Where the system runs: the local cloud built from template.yaml, Athena SQL, the host's deployment."""

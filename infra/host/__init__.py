"""The always-on trading host's deployment: EC2 template, boot script, systemd units, IBC and agent config."""

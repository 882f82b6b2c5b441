"""The always-on trading host's deployment: EC2 template, boot script, systemd units, IBC and agent config."""

from pathlib import Path

HOST_TEMPLATE = Path(__file__).with_name("template.yaml")  # the host stack (plain CloudFormation)

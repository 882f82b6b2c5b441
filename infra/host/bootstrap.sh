#!/bin/bash
# First boot of the trading host, run as root by the instance's user data after it unpacked this bundle
# to /opt/regime-trader/host and checked every artifact against SHA256SUMS. Safe to run again (an
# upgrade: new artifacts in S3, then `sudo /opt/regime-trader/host/bootstrap.sh` on the instance).
# Reads /etc/regime-trader/host.env (written by the user data from the stack's parameters).
set -euo pipefail
ART=/opt/regime-trader/artifacts
HOST=/opt/regime-trader/host
# shellcheck disable=SC1091
source /etc/regime-trader/host.env

dnf install -y python3.12 xorg-x11-server-Xvfb amazon-cloudwatch-agent unzip tar \
  libXtst libXrender libXi fontconfig

# One system user per process: the gateway never reads the host's state, the host never the login.
id ibgateway >/dev/null 2>&1 || useradd --system --create-home --home-dir /var/lib/ibgateway --shell /sbin/nologin ibgateway
id trader >/dev/null 2>&1 || useradd --system --create-home --home-dir /var/lib/regime-trader --shell /sbin/nologin trader
install -d -o trader -g trader -m 0750 /var/lib/regime-trader/state
install -d -o ibgateway -g ibgateway -m 0700 /var/lib/ibgateway/Jts
install -d -m 0755 /var/log/regime-trader

# Java for arm64 (IB's installer bundles an x86-64 one): an aarch64 JRE 17 with JavaFX, from the artifacts.
rm -rf /opt/jre && install -d /opt/jre
tar -xzf "$ART/jre-arm64.tar.gz" -C /opt/jre --strip-components=1
/opt/jre/bin/java -version

# IB Gateway (IB's standalone installer, unattended, on our JRE) where IBC looks for it.
rm -rf "/opt/ibgateway/ibgateway/${GATEWAY_MAJOR}"
INSTALL4J_JAVA_HOME=/opt/jre sh "$ART/ibgateway-standalone-linux-x64.sh" -q -dir "/opt/ibgateway/ibgateway/${GATEWAY_MAJOR}"
rm -rf /opt/ibc && install -d /opt/ibc
unzip -q -o "$ART/IBCLinux.zip" -d /opt/ibc
chmod +x /opt/ibc/*.sh /opt/ibc/scripts/*.sh

# The host: the project's wheel in its own virtualenv; the strategy config beside host.env.
python3.12 -m venv /opt/regime-trader/venv
/opt/regime-trader/venv/bin/pip install --quiet --upgrade "$ART"/regime_trader-*.whl
install -m 0644 "$HOST/config/strategy.toml" /etc/regime-trader/strategy.toml

# Logs and system metrics to CloudWatch (the host sends its trading metrics itself).
sed -e "s|@HOST_LOG_GROUP@|${HOST_LOG_GROUP}|" -e "s|@GATEWAY_LOG_GROUP@|${GATEWAY_LOG_GROUP}|" \
  -e "s|@BOOT_LOG_GROUP@|${BOOT_LOG_GROUP}|" "$HOST/cloudwatch-agent.json" \
  >/opt/aws/amazon-cloudwatch-agent/etc/regime-trader.json
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \
  -c file:/opt/aws/amazon-cloudwatch-agent/etc/regime-trader.json

install -m 0644 "$HOST"/systemd/*.service /etc/systemd/system/
systemd-analyze verify /etc/systemd/system/ibgateway.service /etc/systemd/system/regime-trader.service
systemctl daemon-reload
systemctl enable ibgateway.service regime-trader.service
# Not waited for: on a first deploy the login secret is still empty, and the gateway retries every 30 s
# until the runbook's put-secret-value fills it (then waits for the two-factor approval).
systemctl start --no-block ibgateway.service regime-trader.service

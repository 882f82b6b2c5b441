"""The local cloud: template.yaml stood up on a local AWS endpoint (moto server), events wired to handlers.

`python -m devkit.local_cloud up|down|status`; from code, `LocalCloud` (see `cloud.py`).
"""

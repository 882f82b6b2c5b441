"""The functions' AWS edge, shared through the layer beside the pure core: one client per service, the
regime function's settings, model store, bar windows and writes, the DynamoDB item conversions. The
functions' own modules (app.py) keep the event and the handler.

Imported as `regime_aws.*` both in Lambda (the layer's python/ is on sys.path) and in the tests.
"""

import os

# The service the stack's functions log as (the template's POWERTOOLS_SERVICE_NAME). The layer's child loggers
# are named when first imported, which in-process (the demo, the local cloud) is before any function's
# environment exists: named from here, their lines never come from `service_undefined`.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "regime-trader"

"""The functions' AWS edge, shared through the layer beside the pure core: one client per service, the
regime function's settings, model store, bar windows and writes, the DynamoDB item conversions. The
functions' own modules (app.py) keep the event and the handler.

Imported as `regime_aws.*` both in Lambda (the layer's python/ is on sys.path) and in the tests.
"""

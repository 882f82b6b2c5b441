"""The functions' AWS edge, shared through the layer: one client per service, the regime function's settings,
model store, bar windows and writes. The functions' own modules (app.py) keep the event and the handler.

Imported as `regime.cloud.*` both in Lambda (the layer's python/ is on sys.path) and in the tests.
"""

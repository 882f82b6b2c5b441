"""The Lambda functions, one folder each (a package only so that tests and mypy can tell the app.py apart)."""

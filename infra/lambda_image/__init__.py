"""A stand-in for the Lambda Python 3.12 base image, built offline, so that `sam local invoke` runs here."""

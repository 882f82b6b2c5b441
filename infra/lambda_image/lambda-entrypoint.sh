#!/bin/sh
# The image's entry point, as in the Lambda base images: with an emulator present (SAM adds one under
# /var/rapid and starts it itself), run the bootstrap under it; otherwise run the bootstrap directly.
if [ $# -gt 0 ]; then export _HANDLER="$1"; fi
if [ -x /var/rapid/aws-lambda-rie ] && [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
  exec /var/rapid/aws-lambda-rie /var/runtime/bootstrap
fi
exec /var/runtime/bootstrap

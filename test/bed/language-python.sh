#!/usr/bin/env bash
# The Pulumi Python language host and the CLI of its release, for test/consumer/python.test.ts
# (pulumi-toolchain.sh python).
exec bash "$(dirname "${BASH_SOURCE[0]}")/pulumi-toolchain.sh" python

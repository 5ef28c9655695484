#!/usr/bin/env bash
# The Pulumi YAML language host, for test/consumer/yaml.test.ts (pulumi-toolchain.sh yaml).
exec bash "$(dirname "${BASH_SOURCE[0]}")/pulumi-toolchain.sh" yaml

#!/usr/bin/env bash
# pulumi-resource-docker-build and the docker CLI's buildx plugin, for LocalImage in
# test/consumer/consumer.test.ts (pulumi-toolchain.sh docker-build).
exec bash "$(dirname "${BASH_SOURCE[0]}")/pulumi-toolchain.sh" docker-build

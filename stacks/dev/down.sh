#!/usr/bin/env bash
# Destroys the dev stack's cluster. The registry, the caches and their data stay (see the README),
# unless the stack sets kind-dev:retainOnDestroy to false.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$HOME/.pulumi-kind-dev}
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-}
export PULUMI_SKIP_UPDATE_CHECK=${PULUMI_SKIP_UPDATE_CHECK:-true}
pulumi destroy --yes --non-interactive --stack "${KIND_DEV_STACK:-dev}" "$@"

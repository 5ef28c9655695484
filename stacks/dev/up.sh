#!/usr/bin/env bash
# Brings the dev stack up on a local file backend: no Pulumi account needed.
#   PULUMI_BACKEND_URL       default file://$HOME/.pulumi-kind-dev (state stays on this machine)
#   PULUMI_CONFIG_PASSPHRASE encrypts the stack's secrets (the kubeconfig); default empty
#   KIND_DEV_STACK           stack name, default dev (config in stacks/dev/Pulumi.<stack>.yaml)
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in pulumi docker kind node; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "pulumi-kind-dev: $tool is not on PATH; see the README's prerequisites" >&2
    exit 127
  fi
done

export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$HOME/.pulumi-kind-dev}
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-}
export PULUMI_SKIP_UPDATE_CHECK=${PULUMI_SKIP_UPDATE_CHECK:-true}
stack=${KIND_DEV_STACK:-dev}

if [[ $PULUMI_BACKEND_URL == file://* ]]; then
  mkdir -p "${PULUMI_BACKEND_URL#file://}"
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
pulumi stack select --create "$stack" --non-interactive >/dev/null
pulumi up --yes --non-interactive --stack "$stack" "$@"

#!/usr/bin/env bash
# Destroys the dev stack's cluster. The registry, the caches and their data stay (see the README),
# unless the stack sets kind-dev:retainOnDestroy to false.
# Usage: npm run down [-- FLAG...], each FLAG passed to pulumi destroy (--diff, ...).
#   PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE and KIND_DEV_STACK as for npm run up
set -euo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  while IFS= read -r line && [[ $line == \#* ]]; do
    line=${line#\#}
    [[ $line == '!'* ]] || echo "${line# }"
  done <"$0"
  exit 0
fi
cd "$(dirname "$0")/../.."
bed_cache=${KIND_DEV_BED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-kind-dev-bed}
# The tools npm run up got through the test bed, when none are installed.
if ! command -v pulumi >/dev/null 2>&1 && [[ -x $bed_cache/bin/pulumi ]]; then
  # shellcheck source-path=SCRIPTDIR/../.. source=test/bed/env.sh
  source test/bed/env.sh
fi
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$HOME/.pulumi-kind-dev}
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-}
export PULUMI_SKIP_UPDATE_CHECK=${PULUMI_SKIP_UPDATE_CHECK:-true}
pulumi destroy --yes --non-interactive --stack "${KIND_DEV_STACK:-dev}" "$@"

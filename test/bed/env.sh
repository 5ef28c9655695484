# shellcheck shell=bash
# Source this (after test/bed/pulumi-toolchain.sh has run) to use the test bed's Pulumi
# toolchain and kind:  . test/bed/env.sh
# It changes no shell options, so an interactive shell can source it too.
# Same cache location as common.sh.
_bed_cache=${KIND_DEV_BED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-kind-dev-bed}

# pulumi, pulumi-language-nodejs, pulumi-resource-*, kind.
export PATH="$_bed_cache/bin:$PATH"

# The engine's home: the resource plugins pulumi-toolchain.sh built are linked into
# $PULUMI_HOME/plugins/resource-NAME-vVERSION/, so the engine finds the exact versions the npm SDKs
# ask for and never tries to download one. Logins (`pulumi login file://...`) are kept here too.
export PULUMI_HOME="$_bed_cache/pulumi-home"
# Use only those plugins: a pulumi-resource-* on PATH would otherwise be taken whatever its
# version, with a warning on every run. The language host is still found, next to the CLI.
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
# A missing plugin is an error, not a download attempt (there is no network here).
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_SKIP_UPDATE_CHECK=true
# Automation API programs must not check the CLI's version against the latest release.
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true

unset _bed_cache

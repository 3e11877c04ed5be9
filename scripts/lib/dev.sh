# Where the local development stack lives; sourced by scripts/up and scripts/down.
# shellcheck shell=bash
DEV_DIR=$REPO_ROOT/.local/dev
DEV_PG_PORT=${DEV_PG_PORT:-15432}
DEV_RABBIT_NODE=cp-dev@localhost
DEV_RABBIT_PORT=${DEV_RABBIT_PORT:-5682}
DEV_RABBIT_MGMT_PORT=${DEV_RABBIT_MGMT_PORT:-15682}
DEV_API_PORT=${DEV_API_PORT:-9443}
DEV_DATA_CENTERS=(ams sjc sin)
# Each simulated data center is a network namespace of this name.
dc_namespace() { printf 'cp-%s' "$1"; }

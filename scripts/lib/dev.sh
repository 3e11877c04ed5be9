# Where the local development stack lives; sourced by scripts/up, scripts/down,
# scripts/try and scripts/traffic.
# shellcheck shell=bash
# CP_DEV_DIR, CP_DATA_CENTERS and CP_NAMESPACE_PREFIX exist for the tests, which run
# scripts/down against a lab of their own; a developer leaves them unset.
DEV_DIR=${CP_DEV_DIR:-$REPO_ROOT/.local/dev}
DEV_PG_PORT=${DEV_PG_PORT:-15432}
DEV_RABBIT_NODE=cp-dev@localhost
DEV_RABBIT_PORT=${DEV_RABBIT_PORT:-5682}
DEV_RABBIT_MGMT_PORT=${DEV_RABBIT_MGMT_PORT:-15682}
DEV_API_PORT=${DEV_API_PORT:-9443}
DEV_PROMETHEUS_PORT=${DEV_PROMETHEUS_PORT:-19090}
DEV_AGENT_METRICS_PORT=${DEV_AGENT_METRICS_PORT:-19101}
read -r -a DEV_DATA_CENTERS <<< "${CP_DATA_CENTERS:-ams sjc sin}"
DEV_NAMESPACE_PREFIX=${CP_NAMESPACE_PREFIX:-cp-}
# Each simulated data center is a network namespace of this name (the edge) ...
dc_namespace() { printf '%s%s' "$DEV_NAMESPACE_PREFIX" "$1"; }
# ... reached from its own "Internet" client namespace of this name ...
dc_client_namespace() { printf '%s%s-inet' "$DEV_NAMESPACE_PREFIX" "$1"; }
# ... and its proxy keeps its configuration, pidfile, logs and certificates here.
dc_edge_dir() { printf '%s/edge/%s' "$DEV_DIR" "$1"; }
# Its agent serves /metrics on 127.0.0.1 at this port: 19101 for the first DC listed, 19102
# for the second, and so on (ams 19101, sjc 19102, sin 19103).
dc_metrics_port() {
  local i
  for i in "${!DEV_DATA_CENTERS[@]}"; do
    [ "${DEV_DATA_CENTERS[$i]}" = "$1" ] && { printf '%s' $((DEV_AGENT_METRICS_PORT + i)); return 0; }
  done
  die "unknown data center $1"
}

# Shared by scripts/up, scripts/down and scripts/test: install what the stack needs,
# and start or stop PostgreSQL and RabbitMQ with their data inside the checkout.
# Every function is safe to call again: "already running" means nothing to do.
# shellcheck shell=bash

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
RABBIT_BIN=/usr/lib/rabbitmq/bin

log() { if [ -t 1 ]; then printf '\033[1m==>\033[0m %s\n' "$*"; else printf '==> %s\n' "$*"; fi; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_root() {
  [ "$(id -u)" -eq 0 ] || die "run this as root: it installs packages, runs services as their own users and creates network namespaces"
}

# Installs the Debian packages the stack and the tests need, if any is missing.
# A policy-rc.d guard stops the package scripts from starting the system-wide
# RabbitMQ and Prometheus services: ours run from project-local directories instead.
# libnftables1 comes with nftables today; it is named because Agent:Backend=libnftables
# loads it directly. prometheus brings promtool too. chromium is the browser the dashboard
# tests drive through Playwright, which cannot download its own builds here (about 125 MB
# to download, 410 MB installed, half a minute).
ensure_packages() {
  local wanted=(rabbitmq-server nftables libnftables1 iproute2 openssl curl jq docker-compose procps caddy prometheus chromium) missing=() pkg
  # Node and npm run the Cloudflare SDK tests; the machine image's NodeSource build is used when
  # present, Debian's otherwise.
  command -v node >/dev/null && command -v npm >/dev/null || wanted+=(nodejs npm)
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  local guard=/usr/sbin/policy-rc.d created_guard=0
  if [ ! -e "$guard" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$guard" && chmod +x "$guard" && created_guard=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$created_guard" -eq 1 ] && rm -f "$guard"
  # Debian's caddy package enables a host-wide service on port 80; the stack runs
  # its own Caddy per data-center namespace instead, so keep that one off.
  if [[ " ${missing[*]} " == *" caddy "* ]] && command -v systemctl >/dev/null; then
    systemctl disable --now caddy.service >/dev/null 2>&1 || true
  fi
  # Likewise Debian's prometheus package enables a host-wide service on *:9090; the guard
  # kept it from starting, and this keeps it from starting at boot (systemctl disables the
  # SysV links too, and works without systemd running). The dev stack runs its own.
  if [[ " ${missing[*]} " == *" prometheus "* ]]; then
    if command -v systemctl >/dev/null; then
      systemctl disable prometheus.service >/dev/null 2>&1 || true
    else
      update-rc.d prometheus disable >/dev/null 2>&1 || true
    fi
  fi
  [ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL 15 binaries not found in $PG_BIN"
}

# ensure_sdk_packages: installs the Cloudflare SDK the tests drive, exactly as
# tests/sdk/package-lock.json pins it, when it is missing or the lock file changed.
ensure_sdk_packages() {
  local dir=$REPO_ROOT/tests/sdk
  [ -f "$dir/node_modules/.package-lock.json" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] && return 0
  log "installing the Cloudflare SDK for the tests (npm ci in tests/sdk)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

# secret FILE: prints the secret kept in FILE, creating it (0600) on first use.
secret() {
  local file=$1
  if [ ! -s "$file" ]; then
    mkdir -p "$(dirname "$file")" && chmod 700 "$(dirname "$file")"
    (umask 077 && openssl rand -hex 24 > "$file")
  fi
  cat "$file"
}

# bearer_token FILE PREFIX: prints the bearer token kept in FILE (PREFIX and 64 hex
# digits), creating it (0600) on first use.
bearer_token() {
  local file=$1 prefix=$2
  if [ ! -s "$file" ]; then
    (umask 077 && printf '%s%s\n' "$prefix" "$(openssl rand -hex 32)" > "$file")
  fi
  cat "$file"
}

# start_postgres DIR PORT [extra postgres -c settings...]
start_postgres() {
  local dir=$1 port=$2; shift 2
  local data=$dir/postgres/data run=$dir/postgres/run
  local password; password=$(secret "$dir/secrets/postgres-password")
  mkdir -p "$run"
  chown postgres:postgres "$dir/postgres" "$run"
  if [ ! -s "$data/PG_VERSION" ]; then
    log "initialising PostgreSQL in $data"
    local pwfile; pwfile=$(mktemp) && printf '%s\n' "$password" > "$pwfile" && chown postgres "$pwfile"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$data" -U postgres --pwfile="$pwfile" \
      --auth-local=peer --auth-host=scram-sha-256 -E UTF8 >/dev/null
    rm -f "$pwfile"
  fi
  if runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    return 0
  fi
  log "starting PostgreSQL on 127.0.0.1:$port"
  local opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$run" setting
  for setting in "$@"; do opts+=" -c $setting"; done
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -l "$dir/postgres/postgres.log" -w -t 60 -o "$opts" start >/dev/null \
    || die "PostgreSQL did not start; see $dir/postgres/postgres.log"
}

stop_postgres() {
  local data=$1/postgres/data
  [ -s "$data/PG_VERSION" ] || return 0
  if runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "stopping PostgreSQL"
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
}

# psql_admin DIR PORT SQL: runs SQL as the postgres superuser over the socket.
psql_admin() {
  runuser -u postgres -- psql -h "$1/postgres/run" -p "$2" -d postgres -v ON_ERROR_STOP=1 -qtAc "$3"
}

# rabbit_env DIR NODE PORT: the environment one project-local RabbitMQ node runs with.
# The node, its distribution port and epmd listen on loopback only.
rabbit_env() {
  local dir=$1 node=$2 port=$3
  printf '%s\n' HOME=/var/lib/rabbitmq "RABBITMQ_NODENAME=$node" "RABBITMQ_NODE_PORT=$port" \
    "RABBITMQ_DIST_PORT=$((port + 20000))" "RABBITMQ_CONFIG_FILE=$dir/rabbitmq/rabbitmq.conf" \
    "RABBITMQ_MNESIA_BASE=$dir/rabbitmq/mnesia" "RABBITMQ_LOG_BASE=$dir/rabbitmq/log" \
    "RABBITMQ_ENABLED_PLUGINS_FILE=$dir/rabbitmq/enabled_plugins" "RABBITMQ_PID_FILE=$dir/rabbitmq/rabbitmq.pid" \
    ERL_EPMD_ADDRESS=127.0.0.1 "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
}

# rabbit DIR NODE PORT TOOL ARGS...: runs a RabbitMQ CLI tool against that node.
rabbit() {
  local dir=$1 node=$2 port=$3 tool=$4; shift 4
  local env_lines; mapfile -t env_lines < <(rabbit_env "$dir" "$node" "$port")
  (cd /var/lib/rabbitmq && runuser -u rabbitmq -- env "${env_lines[@]}" "$RABBIT_BIN/$tool" -n "$node" "$@")
}

# start_rabbitmq DIR NODE AMQP_PORT MANAGEMENT_PORT
start_rabbitmq() {
  local dir=$1 node=$2 port=$3 mgmt=$4
  mkdir -p "$dir/rabbitmq/mnesia" "$dir/rabbitmq/log"
  cat > "$dir/rabbitmq/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$port
management.tcp.ip = 127.0.0.1
management.tcp.port = $mgmt
loopback_users.guest = true
log.console = false
log.file.level = warning
CONF
  echo '[rabbitmq_management].' > "$dir/rabbitmq/enabled_plugins"
  chown -R rabbitmq:rabbitmq "$dir/rabbitmq"
  if rabbit "$dir" "$node" "$port" rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
    return 0
  fi
  log "starting RabbitMQ node $node on 127.0.0.1:$port (management on 127.0.0.1:$mgmt)"
  local env_lines; mapfile -t env_lines < <(rabbit_env "$dir" "$node" "$port")
  start_process "$dir/rabbitmq/server.pid" "$dir/rabbitmq/log/startup.log" /var/lib/rabbitmq \
    runuser -u rabbitmq -- env "${env_lines[@]}" "$RABBIT_BIN/rabbitmq-server"
  local i
  for i in $(seq 1 90); do
    if rabbit "$dir" "$node" "$port" rabbitmqctl -q await_startup --timeout 2 >/dev/null 2>&1; then
      return 0
    fi
    sleep 1
  done
  die "RabbitMQ did not start; see $dir/rabbitmq/log"
}

stop_rabbitmq() {
  local dir=$1 node=$2 port=$3
  [ -d "$dir/rabbitmq/mnesia" ] || return 0
  if rabbit "$dir" "$node" "$port" rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
    log "stopping RabbitMQ node $node"
    rabbit "$dir" "$node" "$port" rabbitmqctl -q stop >/dev/null 2>&1 || true
  fi
  # rabbitmqctl stop returns once the node has stopped; its start wrapper exits a moment later.
  local i
  for i in $(seq 1 50); do is_running "$dir/rabbitmq/server.pid" || break; sleep 0.1; done
  # epmd outlives the node that started it; end it once no node is registered.
  if command -v epmd >/dev/null && ! epmd -names 2>/dev/null | grep -q '^name '; then
    epmd -kill >/dev/null 2>&1 || true
  fi
}

# ensure_certificates DIR: a development CA and a server certificate for
# localhost, 127.0.0.1, ::1 and "api" (the API's name in docker-compose.yml), made once and kept.
ensure_certificates() {
  local dir=$1/certs
  [ -s "$dir/server.crt" ] && [ -s "$dir/server.key" ] && return 0
  log "creating a development CA and server certificate in $dir"
  mkdir -p "$dir" && chmod 700 "$dir"
  (
    cd "$dir" && umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj "/CN=Edge Control Plane Development CA" -keyout ca.key -out ca.crt \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
      -keyout server.key -out server.csr 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:localhost,DNS:api,IP:127.0.0.1,IP:::1" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" > server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
      -extfile server.ext -out server.crt 2>/dev/null
    rm -f server.csr server.ext ca.srl
    chmod 644 ca.crt server.crt
  )
}

# is_alive PID: true while the process exists and has not exited. A process that
# outlived its parent is reaped by PID 1, which here may take a second or more; an
# exited process (state Z) does not count as alive.
is_alive() {
  kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# is_running PIDFILE: true when the process recorded there is still alive.
is_running() {
  [ -s "$1" ] && is_alive "$(cat "$1")"
}

# start_process PIDFILE LOGFILE WORKDIR COMMAND...: runs COMMAND in WORKDIR, in the
# background, detached from this shell's terminal and pipes.
start_process() {
  local pidfile=$1 logfile=$2 workdir=$3; shift 3
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  # shellcheck disable=SC2016
  setsid bash -c 'cd "$0" && exec "$@"' "$workdir" "$@" >> "$logfile" 2>&1 < /dev/null &
  echo $! > "$pidfile"
}

# stop_process PIDFILE NAME: SIGTERM, then SIGKILL after 15 s.
stop_process() {
  local pidfile=$1 name=$2 pid i
  is_running "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 150); do is_alive "$pid" || break; sleep 0.1; done
  is_alive "$pid" && kill -KILL "$pid" 2>/dev/null
  rm -f "$pidfile"
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local seconds=$1 what=$2 i; shift 2
  for i in $(seq 1 "$seconds"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "timed out after ${seconds}s waiting for $what"
}

# The PostgreSQL and RabbitMQ the tests and benchmarks use, apart from the dev
# stack (.local/test, other ports); sourced by scripts/test and scripts/bench-propagation.
# shellcheck shell=bash
# CP_TEST_PORT_OFFSET (default 0) moves every port, so a second checkout on the same
# machine can run its tests at the same time (e.g. 100: 15533, 5792, 15792).
TEST_DIR=$REPO_ROOT/.local/test
offset=${CP_TEST_PORT_OFFSET:-0}
TEST_PG_PORT=$((15433 + offset))
TEST_RABBIT_NODE=cp-test$( [ "$offset" = 0 ] || printf '%s' "-$offset")@localhost
TEST_RABBIT_PORT=$((5692 + offset))
TEST_RABBIT_MGMT_PORT=$((15692 + offset))
unset offset

start_test_services() {
  mkdir -p "$TEST_DIR"
  # Durability buys nothing for throw-away test databases; speed does.
  start_postgres "$TEST_DIR" "$TEST_PG_PORT" fsync=off synchronous_commit=off full_page_writes=off max_connections=300
  start_rabbitmq "$TEST_DIR" "$TEST_RABBIT_NODE" "$TEST_RABBIT_PORT" "$TEST_RABBIT_MGMT_PORT"
  wait_for 60 "the RabbitMQ management API" curl -fsS -u guest:guest "http://127.0.0.1:$TEST_RABBIT_MGMT_PORT/api/overview"
  export CP_TEST_POSTGRES="Host=127.0.0.1;Port=$TEST_PG_PORT;Username=postgres;Password=$(secret "$TEST_DIR/secrets/postgres-password")"
  export CP_TEST_RABBITMQ="amqp://guest:guest@127.0.0.1:$TEST_RABBIT_PORT/"
  export CP_TEST_RABBITMQ_MANAGEMENT="http://127.0.0.1:$TEST_RABBIT_MGMT_PORT/"
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
}

stop_test_services() {
  stop_rabbitmq "$TEST_DIR" "$TEST_RABBIT_NODE" "$TEST_RABBIT_PORT"
  stop_postgres "$TEST_DIR"
}

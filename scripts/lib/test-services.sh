# The PostgreSQL and RabbitMQ the tests and benchmarks use, apart from the dev
# stack (.local/test, other ports); sourced by scripts/test and scripts/bench-propagation.
# shellcheck shell=bash
TEST_DIR=$REPO_ROOT/.local/test
TEST_PG_PORT=15433
TEST_RABBIT_NODE=cp-test@localhost
TEST_RABBIT_PORT=5692
TEST_RABBIT_MGMT_PORT=15692

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

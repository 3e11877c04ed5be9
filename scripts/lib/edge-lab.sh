# The one implementation of a simulated edge data center, shared by scripts/up,
# scripts/down, the end-to-end tests and the benchmarks (through scripts/edge-lab):
#
#   client namespace ("the Internet")          edge namespace (the DC)
#   <client-ns>  to-edge 203.0.113.2/30  ───▶  to-inet 203.0.113.1/30   <edge-ns>
#                2001:db8:ffff::2/64            2001:db8:ffff::1/64
#   routes: each pool via the edge              each pool bound as local (AnyIP)
#                                               Caddy: TLS on the HTTPS ports, a
#                                               redirect to https on the plaintext ports
#
# Link addresses come from 203.0.113.0/30 and 2001:db8:ffff::/64, which no address
# pool may use. Every link is its own pair of namespaces, so every DC uses the same
# two link addresses. Neither namespace has a default route: nothing leaves the lab.
# shellcheck shell=bash

EDGE_LAB_LINK_V4_EDGE=203.0.113.1
EDGE_LAB_LINK_V4_CLIENT=203.0.113.2
EDGE_LAB_LINK_V6_EDGE=2001:db8:ffff::1
EDGE_LAB_LINK_V6_CLIENT=2001:db8:ffff::2
# ../shared/DESIGN.md §1: Cloudflare's proxied plaintext and HTTPS ports.
EDGE_LAB_PLAINTEXT_PORTS=(80 8080 8880 2052 2082 2086 2095)
EDGE_LAB_HTTPS_PORTS=(443 2053 2083 2087 2096 8443)

# Needs stack.sh (is_alive, is_running).

# edge_lab_namespace_exists NS
edge_lab_namespace_exists() {
  ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$1"
}

# edge_lab_up DC EDGE_NS CLIENT_NS STATE_DIR CA_CERT CA_KEY
# Creates both namespaces and their link (unless they exist), and starts the DC's
# Caddy (unless its pidfile names a live process). Safe to run again.
edge_lab_up() {
  local dc=$1 edge=$2 client=$3 state=$4 ca_cert=$5 ca_key=$6
  local ns
  for ns in "$edge" "$client"; do
    if ! edge_lab_namespace_exists "$ns"; then
      ip netns add "$ns"
      ip -n "$ns" link set lo up
    fi
  done
  if ! ip -n "$edge" link show to-inet >/dev/null 2>&1; then
    ip link add to-inet netns "$edge" type veth peer name to-edge netns "$client"
    ip -n "$edge" addr add "$EDGE_LAB_LINK_V4_EDGE/30" dev to-inet
    ip -n "$edge" addr add "$EDGE_LAB_LINK_V6_EDGE/64" dev to-inet nodad
    ip -n "$edge" link set to-inet up
    ip -n "$client" addr add "$EDGE_LAB_LINK_V4_CLIENT/30" dev to-edge
    ip -n "$client" addr add "$EDGE_LAB_LINK_V6_CLIENT/64" dev to-edge nodad
    ip -n "$client" link set to-edge up
  fi
  edge_lab_start_proxy "$dc" "$edge" "$state" "$ca_cert" "$ca_key"
}

# edge_lab_overlaps_link CIDR: true when a pool would take the link's own addresses
# (203.0.113.0/30 or 2001:db8:ffff::/64); such a pool is not bound.
edge_lab_overlaps_link() {
  local cidr=$1 net bits a b c d
  case $cidr in
    *:*) [[ ${cidr,,} == 2001:db8:ffff:* || ${cidr,,} == 2001:db8:ffff::* ]] ; return ;;
  esac
  net=${cidr%/*} bits=${cidr#*/}
  IFS=. read -r a b c d <<< "$net"
  local pool=$(( (a << 24) | (b << 16) | (c << 8) | d )) link=$(( (203 << 24) | (0 << 16) | (113 << 8) ))
  local mask=$(( bits == 0 ? 0 : (0xffffffff << (32 - bits)) & 0xffffffff ))
  local link_mask=$(( (0xffffffff << 2) & 0xffffffff ))
  # Two prefixes overlap when they agree on the shorter one's bits.
  local shorter=$(( bits < 30 ? mask : link_mask ))
  [ $(( pool & shorter )) -eq $(( link & shorter )) ]
}

# edge_lab_bind EDGE_NS CLIENT_NS CIDR...
# Makes the edge answer for every address of each pool (a local route: AnyIP, as
# Cloudflare's Tubular does) and routes each pool from the client to the edge.
edge_lab_bind() {
  local edge=$1 client=$2 cidr family via; shift 2
  for cidr in "$@"; do
    if edge_lab_overlaps_link "$cidr"; then
      echo "warning: not binding pool $cidr: it overlaps the lab's link addresses (203.0.113.0/30, 2001:db8:ffff::/64)" >&2
      continue
    fi
    case $cidr in
      *:*) family=-6 via=$EDGE_LAB_LINK_V6_EDGE ;;
      *) family=-4 via=$EDGE_LAB_LINK_V4_EDGE ;;
    esac
    ip -n "$edge" "$family" route replace local "$cidr" dev lo
    ip -n "$client" "$family" route replace "$cidr" via "$via"
  done
}

# edge_lab_caddyfile DC STATE_DIR CA_CERT CA_KEY: prints the DC's Caddy configuration.
# Every SNI gets a certificate on demand from the development CA (no `ask` endpoint:
# this is a development edge, not a public one).
edge_lab_caddyfile() {
  local dc=$1 state=$2 ca_cert=$3 ca_key=$4 https plaintext
  https=$(printf 'https://:%s, ' "${EDGE_LAB_HTTPS_PORTS[@]}")
  plaintext=$(printf 'http://:%s, ' "${EDGE_LAB_PLAINTEXT_PORTS[@]}")
  cat <<CADDY
{
	admin off
	skip_install_trust
	storage file_system $state/data
	pki {
		ca local {
			name "Edge Control Plane Development CA"
			root {
				cert $ca_cert
				key $ca_key
			}
		}
	}
	log {
		output file $state/access.log
		level WARN
	}
}

${https%, } {
	tls internal {
		on_demand
	}
	respond "$dc served {http.request.host} over TLS" 200
}

${plaintext%, } {
	redir https://{http.request.host}{http.request.uri} 308
}
CADDY
}

# edge_lab_start_proxy DC EDGE_NS STATE_DIR CA_CERT CA_KEY
edge_lab_start_proxy() {
  local dc=$1 edge=$2 state=$3 ca_cert=$4 ca_key=$5
  local pidfile=$state/caddy.pid
  is_running "$pidfile" && return 0
  mkdir -p "$state/data" "$state/config"
  edge_lab_caddyfile "$dc" "$state" "$ca_cert" "$ca_key" > "$state/Caddyfile"
  # `ip netns exec` execs Caddy, so the pidfile holds Caddy's own pid.
  setsid ip netns exec "$edge" env HOME="$state" XDG_DATA_HOME="$state/data" XDG_CONFIG_HOME="$state/config" \
    caddy run --adapter caddyfile --config "$state/Caddyfile" >> "$state/caddy.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  local i
  for i in $(seq 1 100); do
    if ip netns exec "$edge" bash -c "exec 3<>/dev/tcp/127.0.0.1/443" 2>/dev/null \
      && ip netns exec "$edge" bash -c "exec 3<>/dev/tcp/127.0.0.1/80" 2>/dev/null; then
      return 0
    fi
    is_running "$pidfile" || break
    sleep 0.1
  done
  echo "error: Caddy did not start in $edge; see $state/caddy.log" >&2
  tail -n 20 "$state/caddy.log" >&2 || true
  return 1
}

# edge_lab_down EDGE_NS CLIENT_NS STATE_DIR
# Stops the DC's Caddy by its pidfile first (deleting a namespace does not end the
# processes inside it), ends anything else still running in either namespace, then
# deletes both namespaces, which removes the link and every route with them.
edge_lab_down() {
  local edge=$1 client=$2 state=$3 pidfile=$3/caddy.pid pid ns i
  if is_running "$pidfile"; then
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do is_alive "$pid" || break; sleep 0.1; done
    is_alive "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
  for ns in "$client" "$edge"; do
    edge_lab_namespace_exists "$ns" || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      is_alive "$pid" || continue
      echo "warning: ending pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)), still running in $ns" >&2
      kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns delete "$ns"
  done
}

#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031  # functions run by run_kiln_test; $T per test
# Escape through the host's network (docs/security.md): an instance of the default kind has a
# network of its own. It must not reach services on the host's loopback, nor another instance's
# listener, nor open raw or packet sockets (no sniffing of the signed requests sent to kiln
# serve); it must reach addresses outside through pasta, also after a reboot; pasta must end
# with the instance. An instance launched with `--network host` (named) does reach the host's
# loopback: the check can fail.
#
# Everything runs in a network namespace of the test's own (re-executed under `unshare --net`):
# an "uplink" veth kt0 (10.213.0.2/24, default route via 10.213.0.1, which nothing answers) and
# kt1 (10.214.0.1/24) standing for an address outside, so no packet leaves this machine.
# Needs root, bwrap, busybox, pasta (Debian passt), unshare and ip.
# Usage: network.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
if [ -z "${KILN_NETWORK_TEST_NS:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  exec env KILN_NETWORK_TEST_NS=1 unshare --net -- bash "$0" "$@"
fi
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/../integration/kiln_lib.sh" "$@"
kiln_require_privileged
for tool in ip pasta; do
  command -v "$tool" >/dev/null || fail "needs $tool (Debian iproute2, passt)"
done
[ -n "${KILN_NETWORK_TEST_NS:-}" ] || fail "could not make a network namespace for the test"

ip link set lo up
ip link add kt0 type veth peer name kt0p
ip link add kt1 type veth peer name kt1p
for link in kt0 kt0p kt1 kt1p; do ip link set "$link" up; done
ip addr add 10.213.0.2/24 dev kt0
ip route add default via 10.213.0.1
ip addr add 10.214.0.1/24 dev kt1
OUTSIDE=10.214.0.1

# serve ADDRESS PORT TEXT: busybox httpd on the test's "host" serving TEXT at /, stopped when
# the test ends.
serve() {
  mkdir -p "$T/www-$2"
  echo "$3" >"$T/www-$2/index.html"
  busybox httpd -f -p "$1:$2" -h "$T/www-$2" &
  BG_PIDS="$BG_PIDS $!"
  local tenths=50
  until busybox wget -q -O /dev/null "http://$1:$2/" 2>/dev/null; do
    tenths=$((tenths - 1))
    [ "$tenths" -gt 0 ] || fail "the test's server on $1:$2 did not start"
    sleep 0.1
  done
}

# fetch ID URL: `busybox wget` of URL inside instance ID, given 4 s; the page in $OUT, the exit
# code in $RC (busybox's own -T crashes: busybox timeout stands in).
fetch() {
  kiln instance exec "$1" -- busybox timeout 4 busybox wget -q -O - "$2"
}

# unreachable ID URL WHAT: URL must not be fetched from instance ID: wget fails to connect (1)
# or is stopped waiting (143), it does not crash.
unreachable() {
  fetch "$1" "$2"
  case $RC in
    0) fail "$3: the instance fetched $2: $(cat "$OUT")" ;;
    1 | 143) ;;
    *) show_output; fail "$3: wget of $2 ended with $RC, neither refused nor timed out" ;;
  esac
}

# reachable ID URL TEXT WHAT: URL is fetched from instance ID and holds TEXT.
reachable() {
  fetch "$1" "$2"
  if [ "$RC" != 0 ]; then
    show_output
    fail "$4: the instance could not fetch $2"
  fi
  assert_contains "$OUT" "$3" "$4"
}

test_host_loopback_is_out_of_reach() {
  serve 127.0.0.1 8181 host-loopback-secret
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  unreachable "$ID" http://127.0.0.1:8181/ "the host's 127.0.0.1"
  # The gateway's address is not mapped to the host's loopback (pasta --no-map-gw): the request
  # goes to the gateway, which nothing answers here.
  unreachable "$ID" http://10.213.0.1:8181/ "the gateway's address"
  # Nor is a port the host binds forwarded into the instance (pasta -t/-u none).
  sh_in "$ID" 'busybox netstat -ltn'
  assert_not_contains "$OUT" ":8181" "ports the instance listens on"
  assert_eq private "$(instance_field "$ID" sandbox.network)" "the default network"
}

test_another_instances_listener_is_out_of_reach() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  local server=$ID
  sh_in "$server" 'mkdir -p /www && echo instance-b-secret > /www/index.html && busybox httpd -p 8282 -h /www'
  reachable "$server" http://127.0.0.1:8282/ instance-b-secret "instance B's own listener"
  launch busybox/1.0.0
  local client=$ID
  local address
  sh_in "$client" "busybox ip -4 -o addr show | busybox awk '\$2 != \"lo\" {print \$4}'"
  address=$(cut -d/ -f1 <"$OUT" | head -n 1)
  unreachable "$client" http://127.0.0.1:8282/ "instance B through the loopback"
  if [ -n "$address" ]; then
    unreachable "$client" "http://$address:8282/" "instance B through the instances' address"
  fi
  unreachable "$client" "http://$OUTSIDE:8282/" "instance B through the host's address"
  # Nor from the host: nothing of an instance is forwarded to the host's ports (pasta -T/-U).
  if timeout 4 busybox wget -q -O - http://127.0.0.1:8282/ 2>/dev/null; then
    fail "the host reached instance B's listener on its loopback"
  fi
}

test_no_raw_sockets() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  # Neither CAP_NET_RAW (13) nor CAP_NET_ADMIN (12) in what runs in the instance.
  local cap
  sh_in "$ID" "busybox awk '/^CapEff/ {print \$2}' /proc/self/status"
  cap=$(cat "$OUT")
  if (((0x$cap >> 13) & 1)) || (((0x$cap >> 12) & 1)); then
    fail "a command in the instance has CAP_NET_RAW or CAP_NET_ADMIN (CapEff $cap)"
  fi
  # The sandbox's own processes (bwrap's PID 1, the init) have no capability at all.
  sh_in "$ID" "busybox awk '/^CapEff/ {print \$2}' /proc/1/status"
  assert_stdout 0000000000000000 "the capabilities of the instance's PID 1"
  # A packet socket (what a sniffer needs) is refused.
  kiln instance exec "$ID" -- busybox arping -c 1 -w 1 -I kt0 10.213.0.1
  [ "$RC" != 0 ] || fail "arping (a packet socket) worked in the instance"
  assert_contains "$ERR" "not permitted" "arping's error"
}

test_outbound_works_and_comes_back_after_a_reboot() {
  serve "$OUTSIDE" 8383 outside-page
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  reachable "$ID" "http://$OUTSIDE:8383/" outside-page "an address outside"
  kiln_ok instance reboot "$ID"
  reachable "$ID" "http://$OUTSIDE:8383/" outside-page "an address outside, after a reboot"
}

test_pasta_ends_with_the_instance() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  local init
  init=$(instance_field "$ID" initPid)
  pgrep -f -- "--netns /proc/$init/ns/net" >/dev/null || fail "no pasta for instance $ID"
  kiln_ok instance stop "$ID"
  assert_no_process "--netns /proc/$init/ns/net" 5
  kiln_ok instance start "$ID"
  init=$(instance_field "$ID" initPid)
  pgrep -f -- "--netns /proc/$init/ns/net" >/dev/null || fail "no pasta after a start"
  # However the instance ends: its PID 1 killed from outside kiln takes pasta with it.
  kill -KILL "$init"
  assert_no_process "--netns /proc/$init/ns/net" 5
  kiln_ok instance terminate "$ID"
}

test_host_network_only_by_name() {
  serve 127.0.0.1 8484 host-loopback-page
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0 --network host
  assert_eq host "$(instance_field "$ID" sandbox.network)" "the network asked for"
  reachable "$ID" http://127.0.0.1:8484/ host-loopback-page "the host's loopback, network host"
  kiln_fails instance launch busybox/1.0.0 --network bridge
  assert_contains "$ERR" "bridge" "the error for an unknown network"
}

run_kiln_test host_loopback_is_out_of_reach test_host_loopback_is_out_of_reach
run_kiln_test another_instances_listener test_another_instances_listener_is_out_of_reach
run_kiln_test no_raw_sockets test_no_raw_sockets
run_kiln_test outbound_and_reboot test_outbound_works_and_comes_back_after_a_reboot
run_kiln_test pasta_ends_with_the_instance test_pasta_ends_with_the_instance
run_kiln_test host_network_only_by_name test_host_network_only_by_name
finish

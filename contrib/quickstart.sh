#!/usr/bin/env bash
# First run on a fresh Debian 12: install build dependencies, build, create a sasldb2
# with a demo user in ./demo, start the daemon in the foreground on ./demo/run/mux and
# show one login succeed and one wrong password refused.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

contrib/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWITH_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

demo=$top/demo
mkdir -p "$demo/run"
rm -f "$demo/sasldb2"
# The embedded default: user "demo" in realm "example.org", password "demo-password".
printf 'demo-password' | build/bin/saslpasswd2 -p -c -f "$demo/sasldb2" -u example.org demo
echo "sasldb2 users:"; build/bin/sasldblistusers2 -f "$demo/sasldb2"

build/bin/saslauthd -a sasldb -O "$demo/sasldb2" -m "$demo/run" -n 2 -d 2>"$demo/saslauthd.log" &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -S "$demo/run/mux" ] && break; sleep 0.1; done

echo "testsaslauthd with the right password:"
build/bin/testsaslauthd -f "$demo/run/mux" -u demo -r example.org -p demo-password
echo "testsaslauthd with a wrong password:"
build/bin/testsaslauthd -f "$demo/run/mux" -u demo -r example.org -p wrong || true

if [ -t 0 ] && [ -t 1 ]; then
	echo "saslauthd (pid $daemon) is serving $demo/run/mux in the foreground; its log:"
	echo "  tail -f $demo/saslauthd.log     (Ctrl-C here stops the daemon)"
	wait $daemon
else
	echo "daemon log:"; cat "$demo/saslauthd.log"
fi

#!/usr/bin/env bash
# httpform against real HTTP/HTTPS servers on loopback (tests/fixtures/httpd.py), including
# servers that answer garbage or nothing. Debian's Cyrus has no httpform: no differential.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
. "$FIXTURES_DIR/tls.sh"

require_ours httpform
require_cmd openssl

HTTPD="$FIXTURES_DIR/httpd.py"
TLS="$SCRATCH/tls"
SLACK_MS=3000

make_test_ca "$TLS" ca
make_test_ca "$TLS" otherca
# Name only (no IP): https://127.0.0.1 must then fail the host-name check.
make_server_cert "$TLS" ca web "DNS:localhost"

cat >"$SCRATCH/users.json" <<'JSON'
{"alice": "Alice-Secret-1", "bob": "a&b=c %d+é\"\\ ~", "carol@example.org": "Carol-Pw"}
JSON

# httpd <mode> [args]: a server on a free port; prints the port.
httpd() { start_tcp_fixture "httpd $1" "$SCRATCH/httpd-$1-$RANDOM.log" "$HTTPD" "$@"; }
H=$(httpd form --users "$SCRATCH/users.json" --record "$SCRATCH/requests.jsonl")
HS=$(httpd form --users "$SCRATCH/users.json" --cert "$TLS/web.pem" --key "$TLS/web.key")
GARBAGE=$(httpd garbage)
SILENT=$(httpd silent)
EMPTY=$(httpd empty)
DEAD=$(free_tcp_port)

OK_R="OK remote authentication successful"
NO_CONTACT="NO [ALERT] Couldn't contact remote authentication server"
NO_UNEXP="NO [ALERT] Unexpected response from remote authentication server"
DATA='user=%u&pass=%p&realm=%r&lit=%x%%'


N=0
# daemon <config lines...>: start ours with a fresh -O file; sets RUN.
daemon() {
	local conf="$SCRATCH/httpform-$((++N)).conf"
	printf '%s\n' "$@" >"$conf"
	RUN="$SCRATCH/run-$N"
	start_ours "$RUN" -n 2 -a httpform -O "$conf" ${EXTRA_ARGS:-}
}

# ------------------------------------------------------------ Cyrus keys, plain HTTP
daemon "httpform_host: 127.0.0.1" "httpform_port: $H" "httpform_uri: /login" "httpform_data: $DATA"
PLAIN_RUN=$RUN
check "good password" "$OK_R" "$(auth_reply "$RUN/mux" alice Alice-Secret-1)"
check "bad password: NO <reason phrase>" "NO Bad Credentials" "$(auth_reply "$RUN/mux" alice wrong)"
check "unknown user" "NO Bad Credentials" "$(auth_reply "$RUN/mux" nobody Alice-Secret-1)"
check "URL-encoded specials and UTF-8" "$OK_R" "$(auth_reply "$RUN/mux" bob 'a&b=c %d+é"\\ ~')"
check "user@domain" "$OK_R" "$(auth_reply "$RUN/mux" 'carol@example.org' Carol-Pw)"
last=$(tail -n1 "$SCRATCH/requests.jsonl")
check "body: every byte but A-Za-z0-9 encoded, %% and unknown %x" \
	'user=carol%40example%2Eorg&pass=Carol%2DPw&realm=&lit=%x%' \
	"$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["body"])' "$last")"
hdrs=$("$PYTHON" -c 'import json,sys; h=json.loads(sys.argv[1])["headers"]; print(h.get("Host"), h.get("User-Agent"), h.get("Content-Type"), h.get("Connection"), h.get("Expect"))' "$last")
check "headers as Cyrus" "127.0.0.1:$H saslauthd application/x-www-form-urlencoded close None" "$hdrs"
# A request far beyond Cyrus's 999-byte buffer goes out whole.
long=$(printf 'x%.0s' $(seq 1 1000))
check "1000-byte password: a clean NO" "NO Bad Credentials" "$(auth_reply "$RUN/mux" alice "$long")"
check "... body arrived whole (16 + 1000 + 15 bytes)" "1031" \
	"$("$PYTHON" -c 'import json,sys; print(len(json.loads(sys.argv[1])["body"]))' "$(tail -n1 "$SCRATCH/requests.jsonl")")"

daemon "httpform_host: 127.0.0.1" "httpform_port: $H" "httpform_uri: nocontent" "httpform_data: $DATA"
check "204 is success (uri without leading /)" "$OK_R" "$(auth_reply "$RUN/mux" alice Alice-Secret-1)"
daemon "httpform_host: 127.0.0.1" "httpform_port: $H" "httpform_uri: /status/500" "httpform_data: $DATA"
check "500: unexpected" "$NO_UNEXP" "$(auth_reply "$RUN/mux" alice Alice-Secret-1)"
daemon "httpform_host: 127.0.0.1" "httpform_port: $H" "httpform_uri: /status/302" "httpform_data: $DATA"
check "302 is not followed: unexpected" "$NO_UNEXP" "$(auth_reply "$RUN/mux" alice Alice-Secret-1)"

EXTRA_ARGS=-r daemon "httpform_host: 127.0.0.1" "httpform_port: $H" "httpform_uri: /login" "httpform_data: $DATA"
check "-r: login@realm" "$OK_R" "$(auth_reply "$RUN/mux" carol Carol-Pw imap example.org)"
check "... %r is the realm" "user=carol%40example%2Eorg&pass=Carol%2DPw&realm=example%2Eorg&lit=%x%" \
	"$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["body"])' "$(tail -n1 "$SCRATCH/requests.jsonl")")"

# ------------------------------------------------------------ HTTPS (httpform_url)
daemon "httpform_url: https://localhost:$HS/login" "httpform_cafile: $TLS/ca.pem" "httpform_data: $DATA"
check "https, right CA" "$OK_R" "$(auth_reply "$RUN/mux" alice Alice-Secret-1)"
check "https, bad password" "NO Bad Credentials" "$(auth_reply "$RUN/mux" alice wrong)"
OURS_LOG="$SCRATCH/ours.log.tls" daemon "httpform_url: https://localhost:$HS/login" "httpform_cafile: $TLS/otherca.pem" "httpform_data: $DATA"
check "https, wrong CA" "$NO_CONTACT" "$(auth_reply "$RUN/mux" alice Alice-Secret-1)"
OURS_LOG="$SCRATCH/ours.log.tls" daemon "httpform_url: https://127.0.0.1:$HS/login" "httpform_cafile: $TLS/ca.pem" "httpform_data: $DATA"
check "https, wrong host name" "$NO_CONTACT" "$(auth_reply "$RUN/mux" alice Alice-Secret-1)"
OURS_LOG="$SCRATCH/ours.log.tls" daemon "httpform_url: https://localhost:$HS/login" "httpform_data: $DATA"
check "https, system store does not know the test CA" "$NO_CONTACT" "$(auth_reply "$RUN/mux" alice Alice-Secret-1)"
tlslog=$(cat "$SCRATCH/ours.log.tls")
check_match "log: certificate problem" "auth_httpform: https://localhost:$HS/login: .*(certificate|issuer)" "$tlslog"
check_match "log: name mismatch" "auth_httpform: https://127.0.0.1:$HS/login: .*(127.0.0.1|name|subject)" "$tlslog"
daemon "httpform_url: https://127.0.0.1:$HS/login" "httpform_cafile: $TLS/otherca.pem" "httpform_verify: no" "httpform_data: $DATA"
check "https, verify off explicitly" "$OK_R" "$(auth_reply "$RUN/mux" alice Alice-Secret-1)"
daemon "httpform_url: http://127.0.0.1:$HS/login" "httpform_data: $DATA"
check "http to an https port" "$NO_UNEXP" "$(auth_reply "$RUN/mux" alice Alice-Secret-1)"

# ------------------------------------------------------------ broken servers
daemon "httpform_host: 127.0.0.1" "httpform_port: $DEAD" "httpform_uri: /login" "httpform_data: $DATA"
check "connection refused" "$NO_CONTACT" "$(auth_reply "$RUN/mux" alice Alice-Secret-1)"
daemon "httpform_host: 127.0.0.1" "httpform_port: $GARBAGE" "httpform_uri: /login" "httpform_data: $DATA"
check "garbage status line" "$NO_UNEXP" "$(auth_reply "$RUN/mux" alice Alice-Secret-1)"
daemon "httpform_host: 127.0.0.1" "httpform_port: $EMPTY" "httpform_uri: /login" "httpform_data: $DATA"
check "closed without a byte" "$NO_UNEXP" "$(auth_reply "$RUN/mux" alice Alice-Secret-1)"
daemon "httpform_host: 127.0.0.1" "httpform_port: $SILENT" "httpform_uri: /login" "httpform_data: $DATA" "httpform_timeout: 2"
read -r -a out < <(auth_reply --time "$RUN/mux" alice Alice-Secret-1)
ms=${out[-1]}
unset 'out[-1]'
check "silent server: NO" "$NO_UNEXP" "${out[*]}"
check_cmd "... within httpform_timeout 2 s + slack ($ms ms)" test "$ms" -ge 1900 -a "$ms" -le $((2000 + SLACK_MS))
check "daemon alive after all that" "$OK_R" "$(auth_reply "$PLAIN_RUN/mux" alice Alice-Secret-1)"

# ------------------------------------------------------------ start-up errors
start_fails() { # <desc> <regex> <config lines...>
	local desc="$1" re="$2" conf="$SCRATCH/bad-$((++N)).conf" out
	shift 2
	printf '%s\n' "$@" >"$conf"
	out=$(timeout 10 "$OURS_SASLAUTHD" -d -m "$SCRATCH/run-bad-$N" -a httpform -O "$conf" 2>&1 </dev/null; echo "exit=$?")
	check_match "$desc" "$re.*exit=1" "$(tr '\n' ' ' <<<"$out")"
}
start_fails "no data: refused" "formdata and uri must be specified" "httpform_uri: /x"
start_fails "no uri: refused" "formdata and uri must be specified" "httpform_data: u=%u"
start_fails "no colon: refused" "auth_httpform_init .*colon" "httpform_uri /x" "httpform_data: u=%u"
start_fails "unknown port name: refused" "unknown httpform_port" "httpform_port: no-such-svc" "httpform_uri: /x" "httpform_data: u=%u"
start_fails "ftp URL: refused" "http:// or https://" "httpform_url: ftp://h/x" "httpform_data: u=%u"
out=$(timeout 10 "$OURS_SASLAUTHD" -d -m "$SCRATCH/run-bad-x" -a httpform -O "$SCRATCH/absent.conf" 2>&1 </dev/null; echo "exit=$?")
check_match "absent -O file: refused" "auth_httpform_init.*absent.conf.*exit=1" "$(tr '\n' ' ' <<<"$out")"

# ------------------------------------------------------------ -V never logs the password
OURS_LOG="$SCRATCH/ours.log.v" EXTRA_ARGS=-V daemon "httpform_host: 127.0.0.1" "httpform_port: $H" "httpform_uri: /login" "httpform_data: $DATA"
auth_reply "$RUN/mux" alice Alice-Secret-1 >/dev/null
auth_reply "$RUN/mux" alice Wrong-Secret-9 >/dev/null
check_match "-V logs the request" "auth_httpform: POST http://127.0.0.1:$H/login for \[alice\]" "$(cat "$SCRATCH/ours.log.v")"
check "no password in any log" "" "$(grep -a -E 'Secret-1|Secret-9|Secret%2D' "$SCRATCH"/ours.log* || true)"

# ------------------------------------------------------------ SIGHUP re-reads the file
cat >"$SCRATCH/hup.conf" <<CONF
httpform_host: 127.0.0.1
httpform_port: $DEAD
httpform_uri: /login
httpform_data: $DATA
CONF
start_ours "$SCRATCH/run-hup" -n 1 -a httpform -O "$SCRATCH/hup.conf"
HUP_PID=$DAEMON_PID
check "before SIGHUP: old port" "$NO_CONTACT" "$(auth_reply "$SCRATCH/run-hup/mux" alice Alice-Secret-1)"
sed -i "s/^httpform_port: .*/httpform_port: $H/" "$SCRATCH/hup.conf"
kill -HUP "$HUP_PID"
reply_is() { [[ "$(auth_reply "$1" "$2" "$3")" == "$4" ]]; }
wait_until 10 reply_is "$SCRATCH/run-hup/mux" alice Alice-Secret-1 "$OK_R" || true
check "after SIGHUP: new port" "$OK_R" "$(auth_reply "$SCRATCH/run-hup/mux" alice Alice-Secret-1)"

check_no_sanitizer_reports "$SCRATCH"/ours.log*
finish

#!/usr/bin/env bash
# sql over TLS (sql_usessl) to a throwaway PostgreSQL 15 and MariaDB whose certificate a
# throwaway CA signed (tests/fixtures/tls.sh): with verification on and that CA the logins
# work over TLS; against another CA, or with a name the certificate does not hold, every
# request is a back-end failure (FAIL in the log reason, with the library's reason), never
# a wrong-password NO, and --check fails; sql_tls_verify: no only encrypts, with a warning.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
. "$FIXTURES_DIR/pgsql.sh"
. "$FIXTURES_DIR/mariadb.sh"
. "$FIXTURES_DIR/tls.sh"

require_root
require_ours sql
require_cmd openssl
printf 'sql_engine: none\n' >"$SCRATCH/engines.conf"
BUILT=" $("$OURS_SASLAUTHD" --check -m "$SCRATCH/run-check" -a sql -O "$SCRATCH/engines.conf" 2>&1 | sed -n 's/.*(built:\(.*\)).*/\1/p' || true) "

# The server certificate names 127.0.0.1 only (subject and subjectAltName): "localhost"
# is a name it does not hold.
TLS="$SCRATCH/tls"
make_test_ca "$TLS" ca
make_test_ca "$TLS" other
make_server_cert "$TLS" ca 127.0.0.1 "IP:127.0.0.1"
CERT="$TLS/127.0.0.1.pem"
KEY="$TLS/127.0.0.1.key"
CREATE="CREATE TABLE mailbox (username VARCHAR(255) NOT NULL, password VARCHAR(255), active INT NOT NULL)"
ROW="INSERT INTO mailbox VALUES ('tls@example.org', '{PLAIN}tls-pw', 1)"
SELECT="sql_select: SELECT password FROM mailbox WHERE username = %U AND active = 1"

CUR_PID=""
SOCK=""
with_ours() { # <name> <config lines...>
	local name="$1"
	shift
	printf '%s\n' "$@" "sql_timeout: 3" >"$SCRATCH/$name.conf"
	CONF="$SCRATCH/$name.conf"
	[[ -z "$CUR_PID" ]] || stop_pid "$CUR_PID"
	start_ours "$SCRATCH/run-$name" -a sql -O "$CONF" -n 1
	CUR_PID="$DAEMON_PID"
	SOCK="$SCRATCH/run-$name/mux"
}
expect() { check "$1" "$2" "$(saslclient req "$SOCK" "$3" "$4" smtp example.org)"; }
last_reason() { grep -o 'reason=[^]]*' "$SCRATCH/ours.log" | tail -1; }
run_check() { # <expect exit> <description>
	local rc=0
	CHECK_OUT=$(timeout 60 "$OURS_SASLAUTHD" --check -m "$SCRATCH/run-check" -a sql -O "$CONF" 2>&1) || rc=$?
	check "$2: --check exits $1" "$1" "$rc"
}

# tls_cases <engine> <host:port> <the host by a name the certificate lacks> <base lines...>
tls_cases() {
	local e="$1" ip="$2" name="$3"
	shift 3
	with_ours "$e-ok" "$@" "sql_hostnames: $ip" "sql_usessl: yes" "sql_tls_ca_file: $TLS/ca.pem"
	expect "$e: verified TLS, right password" OK tls tls-pw
	expect "$e: verified TLS, wrong password" NO tls wrong
	check "$e: wrong password reason" "reason=invalid credentials" "$(last_reason)"
	run_check 0 "$e: verified TLS"

	with_ours "$e-wrongca" "$@" "sql_hostnames: $ip" "sql_usessl: yes" "sql_tls_ca_file: $TLS/other.pem"
	expect "$e: another CA: NO" NO tls tls-pw
	check_match "$e: another CA: FAIL with the certificate reason" \
		'^reason=FAIL: database unavailable: .*[Cc]ertificate' "$(last_reason)"
	expect "$e: another CA: a wrong password is FAIL too, not invalid credentials" NO tls wrong
	check_match "$e: another CA: still FAIL" '^reason=FAIL: database unavailable' "$(last_reason)"
	run_check 1 "$e: another CA"
	check_match "$e: another CA: --check says why" '[Cc]ertificate' "$CHECK_OUT"

	if [[ -n "$name" ]]; then
		with_ours "$e-name" "$@" "sql_hostnames: $name" "sql_usessl: yes" "sql_tls_ca_file: $TLS/ca.pem"
		expect "$e: a name the certificate lacks: NO" NO tls tls-pw
		check_match "$e: name mismatch is FAIL" '^reason=FAIL: database unavailable: .*(name|match|host)' "$(last_reason)"
	fi

	with_ours "$e-noverify" "$@" "sql_hostnames: $ip" "sql_usessl: yes" "sql_tls_verify: no" "sql_tls_ca_file: $TLS/other.pem"
	check_match "$e: verification off is a warning at start" 'sql_tls_verify is off' "$(cat "$SCRATCH/ours.log")"
	expect "$e: unverified TLS still logs in" OK tls tls-pw
}

if [[ "$BUILT" == *" pgsql "* ]]; then
	require_pgsql
	mkdir -p "$SCRATCH/pgtls"
	cp "$CERT" "$KEY" "$SCRATCH/pgtls/"
	chown -R postgres: "$SCRATCH/pgtls"
	chmod 0600 "$SCRATCH/pgtls/127.0.0.1.key"
	start_pgsql pgt "-c ssl=on -c ssl_cert_file=$SCRATCH/pgtls/127.0.0.1.pem -c ssl_key_file=$SCRATCH/pgtls/127.0.0.1.key"
	pg_sql pgt "CREATE DATABASE mail" postgres >/dev/null
	pg_sql pgt "$CREATE; $ROW" >/dev/null
	pg_sql pgt "CREATE ROLE saslauthd LOGIN PASSWORD 'db-secret'; GRANT SELECT ON mailbox TO saslauthd" >/dev/null
	PGBASE=("sql_engine: pgsql" "sql_user: saslauthd" "sql_passwd: db-secret" "sql_database: mail" "$SELECT")
	tls_cases pgsql "127.0.0.1:$PG_PORT_pgt" "localhost:$PG_PORT_pgt" "${PGBASE[@]}"
	# the connection that verified really is TLS
	with_ours pg-seen "${PGBASE[@]}" "sql_hostnames: 127.0.0.1:$PG_PORT_pgt" "sql_usessl: yes" "sql_tls_ca_file: $TLS/ca.pem"
	expect "pgsql: login before looking at the connection" OK tls tls-pw
	check "pgsql: the server sees our connection encrypted" t \
		"$(psql -X -At -h "$SCRATCH/pgt" -p "$PG_PORT_pgt" -U postgres -d mail -c "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'saslauthd'")"
else
	log "SKIP pgsql: engine not built"
fi

if [[ "$BUILT" == *" mysql "* ]]; then
	require_mariadb
	start_mariadb myt --ssl-ca="$TLS/ca.pem" --ssl-cert="$CERT" --ssl-key="$KEY"
	my_sql myt "CREATE DATABASE mail" mysql
	my_sql myt "$CREATE; $ROW"
	# REQUIRE SSL: a login that works went over TLS.
	my_sql myt "CREATE USER saslauthd@'127.0.0.1' IDENTIFIED BY 'db-secret' REQUIRE SSL; CREATE USER saslauthd@localhost IDENTIFIED BY 'db-secret' REQUIRE SSL; GRANT SELECT ON mail.mailbox TO saslauthd@'127.0.0.1'; GRANT SELECT ON mail.mailbox TO saslauthd@localhost"
	MYBASE=("sql_engine: mysql" "sql_user: saslauthd" "sql_passwd: db-secret" "sql_database: mail" "$SELECT")
	# (MariaDB's client reads "localhost" as its UNIX socket: no name case here.)
	tls_cases mysql "127.0.0.1:$MY_PORT_myt" "" "${MYBASE[@]}"
	with_ours my-plain "${MYBASE[@]}" "sql_hostnames: 127.0.0.1:$MY_PORT_myt"
	expect "mysql: without sql_usessl the REQUIRE SSL user is refused (so TLS was in use above)" NO tls tls-pw
	check_match "mysql: and that is FAIL" '^reason=FAIL: database unavailable' "$(last_reason)"
else
	log "SKIP mysql: engine not built"
fi

check_no_sanitizer_reports "$SCRATCH/ours.log"
finish

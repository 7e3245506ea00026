#!/usr/bin/env bash
# sql throughput: Cyrus saslauthd -a pam with pam_mysql (Debian's libpam-mysql) vs ours
# -a sql, both reading the same PostfixAdmin-style `mailbox` table of one throwaway MariaDB
# (tests/fixtures/mariadb.sh) over its UNIX socket, same -n, same request file, alternating
# rounds with saslauthd-loadgen. 90 % right, 10 % wrong passwords.
#
# Cyrus's pam runs the real libpam, so the service file is a real /etc/pam.d file with a
# name of its own (removed at exit whatever happens); the requests name that service.
#
# usage: bench/sql-compare.sh [-c "4 16"] [-d 5] [-w 1] [-r 3] [-n 5] [-s plain|sha512crypt|md5crypt]
#   -s   what the table stores: plain text (pam_mysql crypt=0, ours sql_default_scheme
#        PLAIN: measures the daemons and the database round trips) or a crypt(3) hash
#        (pam_mysql crypt=1, ours the default CRYPT: adds the hash to both)
# env: BUILD_DIR (default build), LOADGEN, CYRUS (default /usr/sbin/saslauthd)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export SOURCE_DIR="$ROOT"
export BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
. "$ROOT/tests/fixtures/lib.sh"
. "$ROOT/tests/fixtures/mariadb.sh"
CONCURRENCY="4 16"
. "$ROOT/bench/lib.sh"
SCHEME=plain
NUSERS=20
bench_parse_args "$@"
set -- "${BENCH_REST[@]+"${BENCH_REST[@]}"}"
while [[ $# -gt 0 ]]; do
	case $1 in
	-s) SCHEME=$2; shift ;;
	*) echo "usage: see the header of $0" >&2; exit 2 ;;
	esac
	shift
done
case $SCHEME in
plain) PAM_CRYPT=0 DEFAULT_SCHEME=PLAIN ;;
sha512crypt | md5crypt) PAM_CRYPT=1 DEFAULT_SCHEME=CRYPT ;;
*) die "-s: plain, sha512crypt or md5crypt" ;;
esac
require_mariadb
require_ours sql

# ---------------------------------------------------------------- the table
start_mariadb bench >/dev/null
SOCK="$SCRATCH/bench/sock"
my_sql bench "CREATE DATABASE mail" mysql
my_sql bench "CREATE TABLE mailbox (username VARCHAR(255) NOT NULL PRIMARY KEY, password VARCHAR(255) NOT NULL, active INT NOT NULL, domain VARCHAR(255) NOT NULL)"
my_sql bench "CREATE USER saslauthd@localhost IDENTIFIED BY 'db-secret'; GRANT SELECT ON mail.mailbox TO saslauthd@localhost"
PAM_ARGS=(host="$SOCK" user=saslauthd passwd=db-secret db=mail table=mailbox usercolumn=username
	passwdcolumn=password where=active=1 crypt="$PAM_CRYPT")
pam_mysql_service "${PAM_ARGS[@]}"
SERVICE=$PAM_MYSQL_SERVICE
REQS="$SCRATCH/requests"
{
	for i in $(seq -w 1 "$NUSERS"); do
		pw="Pw-$i-secret"
		stored=$pw
		[[ $SCHEME == plain ]] || stored=$(make_hash "$SCHEME" "$pw")
		printf "INSERT INTO mailbox VALUES ('benchu%s', '%s', 1, 'example.org');\n" "$i" "$stored"
	done
} | mariadb --no-defaults -S "$SOCK" -u root -D mail
for i in $(seq -w 1 "$NUSERS"); do
	for k in 1 2 3 4 5 6 7 8 9; do printf 'OK\tbenchu%s\tPw-%s-secret\t%s\t\n' "$i" "$i" "$SERVICE"; done
	printf 'NO\tbenchu%s\twrong\t%s\t\n' "$i" "$SERVICE"
done >"$REQS"

CONF="$SCRATCH/sql.conf"
printf '%s\n' "sql_engine: mysql" "sql_hostnames: $SOCK" "sql_user: saslauthd" "sql_passwd: db-secret" \
	"sql_database: mail" "sql_select: SELECT password FROM mailbox WHERE username = %u AND active = 1" \
	"sql_default_scheme: $DEFAULT_SCHEME" >"$CONF"

start_cyrus "$SCRATCH/cyrus-run" -a pam -n "$WORKERS" 2>/dev/null
start_ours "$SCRATCH/ours-run" -a sql -O "$CONF" -n "$WORKERS" 2>/dev/null
# Both must decide every request right before anything is measured.
for impl in cyrus ours; do
	"$LOADGEN" -s "$SCRATCH/$impl-run/mux" -f "$REQS" -c 1 -n "$(wc -l <"$REQS")" -t 10 -q >/dev/null ||
		die "$impl gives wrong verdicts on the bench table (see $SCRATCH/$impl.log)"
done
echo "== mechanism sql (MariaDB over its UNIX socket), stored $SCHEME, -n $WORKERS: Cyrus -a pam + pam_mysql vs ours -a sql; rps = logins/s"
bench_table "$REQS"

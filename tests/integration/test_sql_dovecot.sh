#!/usr/bin/env bash
# Differential: our sql mechanism and Dovecot's SQL passdb (`doveadm auth test`) on the same
# mailbox table give the same verdict for every scheme right and wrong, unknown,
# inactive, NULL, empty, duplicate, UTF-8 and long users and injections. One corpus, run
# on every engine that is built in ours and whose Dovecot driver is installed: a SQLite
# file (dovecot-sqlite), a throwaway PostgreSQL 15 (dovecot-pgsql) and a throwaway
# MariaDB (dovecot-mysql). The one deliberate difference, a stored hash over a
# password_max_* cap (we refuse it, Dovecot computes it: $2b$31$ takes days), is not run
# here; test_sql.sh checks our side.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
. "$FIXTURES_DIR/pgsql.sh"
. "$FIXTURES_DIR/mariadb.sh"

require_root
require_ours sql
require_cmd mkpasswd doveadm /usr/sbin/dovecot
id dovecot >/dev/null 2>&1 && id dovenull >/dev/null 2>&1 || skip_test "dovecot users missing"
DOVECOT_MODULES=/usr/lib/dovecot/modules
# The engines built in: the error for an unknown one lists them.
printf 'sql_engine: none\n' >"$SCRATCH/engines.conf"
BUILT=" $("$OURS_SASLAUTHD" --check -m "$SCRATCH/run-check" -a sql -O "$SCRATCH/engines.conf" 2>&1 | sed -n 's/.*(built:\(.*\)).*/\1/p' || true) "

LONG=$(printf 'l%.0s' {1..200})
SHA=$(printf '%s' sha-pw | openssl dgst -sha256 -binary | base64 -w0)
# login | realm | password | stored value (NULL: SQL NULL) | active
CASES=(
	"plain|example.org|plain-pw|{PLAIN}plain-pw|1"
	"ys|example.org|ys-pw|$(make_hash yescrypt ys-pw)|1"
	"s512|example.org|s512-pw|{SHA512-CRYPT}$(make_hash sha512crypt s512-pw)|1"
	"s256|example.org|s256-pw|$(make_hash sha256crypt s256-pw)|1"
	"blf|example.org|blf-pw|{BLF-CRYPT}$(make_hash bcrypt blf-pw)|1"
	"md5c|example.org|md5c-pw|{MD5-CRYPT}$(make_hash md5crypt md5c-pw)|1"
	"ssha|example.org|ssha-pw|$(doveadm pw -s SSHA -p ssha-pw)|1"
	"ssha256|example.org|ssha256-pw|$(doveadm pw -s SSHA256 -p ssha256-pw)|1"
	"ssha512|example.org|ssha512-pw|$(doveadm pw -s SSHA512 -p ssha512-pw)|1"
	"sha|example.org|sha-pw|{SHA256}$SHA|1"
	"sha1|example.org|sha1-pw|$(doveadm pw -s SHA -p sha1-pw)|1"
	"sha512|example.org|sha512-pw|$(doveadm pw -s SHA512 -p sha512-pw)|1"
	"hex|example.org|hex-pw|$(doveadm pw -s SHA256.HEX -p hex-pw)|1"
	"b64|example.org|b64-pw|$(doveadm pw -s PLAIN.B64 -p b64-pw)|1"
	"a2i|example.org|a2i-pw|$(doveadm pw -s ARGON2I -p a2i-pw)|1"
	"a2id|example.org|a2id-pw|$(doveadm pw -s ARGON2ID -p a2id-pw)|1"
	"inactive|example.org|inactive-pw|{PLAIN}inactive-pw|0"
	"nullpw|example.org|x|NULL|1"
	"emptypw|example.org|x||1"
	"rot13|example.org|frperg|{ROT13}frperg|1"
	"jürgen|exämple.org|utf8-pw|{PLAIN}utf8-pw|1"
	"$LONG|example.org|long-pw|{PLAIN}long-pw|1"
)
ROWS="$SCRATCH/rows.sql"
{
	for c in "${CASES[@]}"; do
		IFS='|' read -r login realm pw stored active <<<"$c"
		v="'$stored'"
		[[ "$stored" == NULL ]] && v=NULL
		printf "INSERT INTO mailbox VALUES ('%s@%s', %s, %s, '%s');\n" "$login" "$realm" "$v" "$active" "$realm"
	done
	echo "INSERT INTO mailbox VALUES ('twin@example.org', '{PLAIN}twin-pw', 1, 'example.org');"
	echo "INSERT INTO mailbox VALUES ('twin@example.org', '{PLAIN}twin-pw', 1, 'example.org');"
} >"$ROWS"
SSHA_STORED=$(sed -n "s/^INSERT INTO mailbox VALUES ('ssha@example.org', '\([^']*\)'.*/\1/p" "$ROWS")
CREATE="CREATE TABLE mailbox (username VARCHAR(255) NOT NULL, password VARCHAR(1000), active INT NOT NULL, domain VARCHAR(255))"

# ---------------------------------------------------------------- one engine

# setup_<engine>: create and fill the table; set DOVECOT_CONNECT (Dovecot's connect
# string) and OURS_KEYS (our sql_* lines but sql_select).
setup_sqlite3() {
	local db="$SCRATCH/mail.sqlite"
	{ echo "$CREATE;"; cat "$ROWS"; } | sqlite3 "$db"
	chmod 0644 "$db"
	DOVECOT_CONNECT="$db"
	OURS_KEYS=("sql_engine: sqlite3" "sql_database: $db")
}

setup_pgsql() {
	start_pgsql pgd
	pg_sql pgd "CREATE DATABASE mail" postgres >/dev/null
	pg_sql pgd "$CREATE" >/dev/null
	PGOPTIONS=-cclient_min_messages=warning psql -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U postgres -d mail -f "$ROWS" >/dev/null
	pg_sql pgd "CREATE ROLE saslauthd LOGIN PASSWORD 'db-secret'; GRANT SELECT ON mailbox TO saslauthd" >/dev/null
	DOVECOT_CONNECT="host=127.0.0.1 port=$PG_PORT dbname=mail user=saslauthd password=db-secret"
	OURS_KEYS=("sql_engine: pgsql" "sql_hostnames: 127.0.0.1:$PG_PORT" "sql_database: mail"
		"sql_user: saslauthd" "sql_passwd: db-secret")
}

setup_mysql() {
	start_mariadb myd
	my_sql myd "CREATE DATABASE mail CHARACTER SET utf8mb4" mysql
	my_sql myd "$CREATE DEFAULT CHARSET=utf8mb4"
	mariadb --no-defaults --default-character-set=utf8mb4 -S "$SCRATCH/myd/sock" -u root -D mail <"$ROWS"
	my_sql myd "CREATE USER saslauthd@'127.0.0.1' IDENTIFIED BY 'db-secret'; GRANT SELECT ON mail.mailbox TO saslauthd@'127.0.0.1'"
	DOVECOT_CONNECT="host=127.0.0.1 port=$MY_PORT_myd dbname=mail user=saslauthd password=db-secret"
	OURS_KEYS=("sql_engine: mysql" "sql_hostnames: 127.0.0.1:$MY_PORT_myd" "sql_database: mail"
		"sql_user: saslauthd" "sql_passwd: db-secret")
}

# start_dovecot_sql <engine> <dovecot driver>: a standalone Dovecot whose passdb is the table.
start_dovecot_sql() {
	DOV="$SCRATCH/dovecot-$1"
	mkdir -p "$DOV/run" "$DOV/state"
	cat >"$DOV/sql.conf.ext" <<EOF
driver = $2
connect = $DOVECOT_CONNECT
default_pass_scheme = CRYPT
password_query = SELECT password FROM mailbox WHERE username = '%u' AND active = 1
EOF
	cat >"$DOV/dovecot.conf" <<EOF
base_dir = $DOV/run
state_dir = $DOV/state
log_path = $DOV/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain
auth_username_chars =
auth_failure_delay = 0
passdb {
  driver = sql
  args = $DOV/sql.conf.ext
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  inet_listener imap {
    port = $(free_tcp_port)
  }
}
EOF
	start_bg "dovecot $1" "$DOV/stdout.log" /usr/sbin/dovecot -F -c "$DOV/dovecot.conf"
	DOVECOT_PID=$DAEMON_PID
	wait_until 10 test -S "$DOV/run/auth-client" || die "dovecot did not start: $(tail -5 "$DOV/dovecot.log")"
}

dovecot_verdict() { # <user@realm> <password>
	if doveadm -c "$DOV/dovecot.conf" auth test -x service=smtp "$1" "$2" >>"$DOV/doveadm.log" 2>&1; then
		echo OK
	else
		echo NO
	fi
}

ours_verdict() { saslclient req "$SCRATCH/run-$ENGINE/mux" "$1" "$2" smtp "$3"; }

compare() { # <description> <login> <realm> <password>
	local d o
	d=$(dovecot_verdict "$2@$3" "$4")
	o=$(ours_verdict "$2" "$4" "$3")
	check "$ENGINE: $1: dovecot $d, ours" "$d" "$o"
}

# run_engine <our engine> <Dovecot driver> <commands the server needs...>: the corpus on
# one engine, or a logged skip when ours or Dovecot lacks it.
run_engine() {
	ENGINE=$1
	local driver=$2 c ours_pid
	shift 2
	if [[ "$BUILT" != *" $ENGINE "* ]]; then
		log "SKIP $ENGINE: not built in ours"
		return 0
	fi
	if [[ ! -e "$DOVECOT_MODULES/libdriver_$driver.so" && ! -e "$DOVECOT_MODULES/auth/libdriver_$driver.so" ]]; then
		log "SKIP $ENGINE: dovecot-$driver not installed"
		return 0
	fi
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || [[ -x "$c" ]] || { log "SKIP $ENGINE: missing $c"; return 0; }
	done
	"setup_$ENGINE"
	start_dovecot_sql "$ENGINE" "$driver"
	printf '%s\n' "${OURS_KEYS[@]}" "sql_select: SELECT password FROM mailbox WHERE username = %U AND active = 1" >"$SCRATCH/$ENGINE.conf"
	start_ours "$SCRATCH/run-$ENGINE" -a sql -O "$SCRATCH/$ENGINE.conf" -n 2
	ours_pid=$DAEMON_PID
	for c in "${CASES[@]}"; do
		IFS='|' read -r login realm pw stored active <<<"$c"
		compare "${login:0:20} right" "$login" "$realm" "$pw"
		compare "${login:0:20} wrong" "$login" "$realm" "$pw-x"
	done
	compare "unknown user" nosuch example.org x
	compare "two rows" twin example.org twin-pw
	compare "injection in the login" "x' OR '1'='1" example.org plain-pw
	compare "injection in the realm" plain "example.org' OR 'a'='a" plain-pw
	compare "stored hash as password" ssha example.org "$SSHA_STORED"
	ENGINES_RUN+=("$ENGINE")
	stop_pid "$ours_pid"
	stop_pid "$DOVECOT_PID"
}

ENGINES_RUN=()
run_engine sqlite3 sqlite sqlite3
run_engine pgsql pgsql "$PG_BINDIR/initdb" "$PG_BINDIR/pg_ctl" psql runuser
run_engine mysql mysql mariadb-install-db mariadbd mariadb
((${#ENGINES_RUN[@]} > 0)) || skip_test "no engine is both built in ours and served by an installed Dovecot driver"
log "engines compared: ${ENGINES_RUN[*]}"
check_no_sanitizer_reports "$SCRATCH/ours.log"
finish

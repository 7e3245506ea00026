#!/usr/bin/env bash
# sql mechanism against a SQLite file, a throwaway PostgreSQL 15 and a throwaway MariaDB,
# all holding the same PostfixAdmin-style `mailbox` table: every password scheme right and
# wrong, unknown/inactive/NULL/empty/duplicated users, injection in the login and the
# realm, UTF-8 and long logins, a stored hash over the cost cap, the hash upgrade on login
# (sql_update); for the servers: stopped and hung database (FAIL within sql_timeout, then
# OK again without a restart), failover to a second server, --check on good and bad
# configurations; SIGHUP rereads the file.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
. "$FIXTURES_DIR/pgsql.sh"
. "$FIXTURES_DIR/mariadb.sh"

require_root
require_ours sql
require_cmd mkpasswd sqlite3 doveadm
TIMEOUT_S=2
# Generous: the timeout plus process start-up and a loaded machine.
TIMEOUT_BOUND_MS=$((TIMEOUT_S * 1000 + 2500))
# The engines built in: the error for an unknown one lists them.
printf 'sql_engine: none\n' >"$SCRATCH/engines.conf"
ENGINES=" $("$OURS_SASLAUTHD" --check -m "$SCRATCH/run-check" -a sql -O "$SCRATCH/engines.conf" 2>&1 | sed -n 's/.*(built:\(.*\)).*/\1/p' | head -1 || true) "
log "engines built: $ENGINES"

# ---------------------------------------------------------------- the table

# scheme names (as in the user names) → stored value for password "<scheme>-pw"
SCHEMES=(plain yescrypt gost-yescrypt scrypt sha512crypt sha256crypt bcrypt md5crypt
	crypt-yescrypt sha512-crypt sha256-crypt blf-crypt md5-crypt ssha ssha256 ssha512 sha
	sha256 sha512 sha256-hex ssha512-hex plain-b64 argon2i argon2id)

digest() { # <python hashlib name> <password> <salted 0|1> <hex 0|1>
	"$PYTHON" - "$@" <<'PY'
import base64, hashlib, os, sys
name, pw, salted, hexed = sys.argv[1], sys.argv[2].encode(), sys.argv[3] == "1", sys.argv[4] == "1"
salt = os.urandom(8) if salted else b""
raw = hashlib.new(name, pw + salt).digest() + salt
print(raw.hex() if hexed else base64.b64encode(raw).decode(), end="")
PY
}

stored_for() {
	local s="$1" pw="$1-pw"
	case "$s" in
	plain) printf '{PLAIN}%s' "$pw" ;;
	yescrypt | gost-yescrypt | scrypt | sha512crypt | sha256crypt | bcrypt | md5crypt) make_hash "$s" "$pw" ;;
	crypt-yescrypt) printf '{CRYPT}%s' "$(make_hash yescrypt "$pw")" ;;
	sha512-crypt) printf '{SHA512-CRYPT}%s' "$(make_hash sha512crypt "$pw")" ;;
	sha256-crypt) printf '{SHA256-CRYPT}%s' "$(make_hash sha256crypt "$pw")" ;;
	blf-crypt) printf '{BLF-CRYPT}%s' "$(make_hash bcrypt "$pw")" ;;
	md5-crypt) printf '{MD5-CRYPT}%s' "$(make_hash md5crypt "$pw")" ;;
	ssha) printf '{SSHA}%s' "$(digest sha1 "$pw" 1 0)" ;;
	ssha256) printf '{SSHA256}%s' "$(digest sha256 "$pw" 1 0)" ;;
	ssha512) printf '{SSHA512}%s' "$(digest sha512 "$pw" 1 0)" ;;
	sha) printf '{SHA}%s' "$(digest sha1 "$pw" 0 0)" ;;
	sha256) printf '{SHA256}%s' "$(digest sha256 "$pw" 0 0)" ;;
	sha512) printf '{SHA512}%s' "$(digest sha512 "$pw" 0 0)" ;;
	sha256-hex) printf '{SHA256.HEX}%s' "$(digest sha256 "$pw" 0 1)" ;;
	ssha512-hex) printf '{SSHA512.hex}%s' "$(digest sha512 "$pw" 1 1)" ;;
	plain-b64) printf '{PLAIN.b64}%s' "$(printf '%s' "$pw" | base64 -w0)" ;;
	argon2i) doveadm pw -s ARGON2I -p "$pw" ;;
	argon2id) doveadm pw -s ARGON2ID -p "$pw" ;;
	esac
}

LONG_LOCAL=$(printf 'l%.0s' {1..900})
BCRYPT5=$(make_hash bcrypt x)
OVERCAP="\$2b\$31\$${BCRYPT5:7}"

# rows: username, password (NULL for none), active
SQL_ROWS="$SCRATCH/rows.sql"
{
	row() { printf "INSERT INTO mailbox (username, password, active, domain) VALUES ('%s', %s, %s, 'example.org');\n" "$1" "$2" "$3"; }
	for s in "${SCHEMES[@]}"; do row "s_$s@example.org" "'$(stored_for "$s")'" 1; done
	row "inactive@example.org" "'{PLAIN}inactive-pw'" 0
	row "nullpw@example.org" NULL 1
	row "emptypw@example.org" "''" 1
	row "twin@example.org" "'{PLAIN}twin-pw'" 1
	row "twin@example.org" "'{PLAIN}twin-pw'" 1
	row "jürgen@exämple.org" "'{PLAIN}utf8-pw'" 1
	row "$LONG_LOCAL@example.org" "'{PLAIN}long-pw'" 1
	row "o''brien@example.org" "'{PLAIN}quote-pw'" 1
	row "overcap@example.org" "'$OVERCAP'" 1
	row "rot13@example.org" "'{ROT13}frperg'" 1
	row "hashonly@example.org" "'{SSHA}NlUwc1S27Dc6zEBMLV4Xmk8omOCSL6dc'" 1
	# for the hash upgrade: two weak values and a strong one
	row "up_md5@example.org" "'{MD5-CRYPT}$(make_hash md5crypt up-md5-pw)'" 1
	row "up_plain@example.org" "'{PLAIN}up-plain-pw'" 1
	row "up_strong@example.org" "'$(make_hash yescrypt up-strong-pw)'" 1
	row "up_bad@example.org" "'{SSHA}$(digest sha1 up-bad-pw 1 0)'" 1
} >"$SQL_ROWS"
CREATE="CREATE TABLE mailbox (username VARCHAR(1100) NOT NULL, password VARCHAR(1000) NULL, active INT NOT NULL, domain VARCHAR(255) NOT NULL)"
SELECT="SELECT password FROM mailbox WHERE username = '%U' AND active = 1"

# ---------------------------------------------------------------- helpers

CUR_PID=""
SOCK=""
CONF=""

# with_ours <name> <config lines...>: (re)start ours on that config.
with_ours() {
	local name="$1"
	shift
	CONF="$SCRATCH/$name.conf"
	printf '%s\n' "$@" "sql_timeout: $TIMEOUT_S" >"$CONF"
	[[ -z "$CUR_PID" ]] || stop_pid "$CUR_PID"
	start_ours "$SCRATCH/run-$name" -a sql -O "$CONF" -n 2
	CUR_PID="$DAEMON_PID"
	SOCK="$SCRATCH/run-$name/mux"
}

ask() { saslclient req "$SOCK" "$1" "$2" smtp "${3:-}"; }
expect() { # <reply> <description> <login> <password> [realm]
	local want="$1" desc="$2"
	shift 2
	check "$desc" "$want" "$(ask "$@")"
}
last_reason() { grep -o 'reason=[^]]*' "$SCRATCH/ours.log" | tail -1; }

# the cases every engine must pass, on the daemon just started
common_cases() {
	local e="$1" s
	for s in "${SCHEMES[@]}"; do
		expect OK "$e: $s right" "s_$s" "$s-pw" example.org
		expect NO "$e: $s wrong" "s_$s" "$s-pw-x" example.org
	done
	expect NO "$e: unknown user" nosuch nosuch-pw example.org
	check "$e: unknown user reason" "reason=user not found" "$(last_reason)"
	expect NO "$e: inactive user" inactive inactive-pw example.org
	expect NO "$e: NULL password, any password" nullpw x example.org
	check "$e: NULL reason" "reason=no login allowed (NULL password)" "$(last_reason)"
	expect NO "$e: empty password" emptypw x example.org
	check "$e: empty reason" "reason=no login allowed (empty password)" "$(last_reason)"
	expect NO "$e: two rows" twin twin-pw example.org
	check "$e: two rows reason" "reason=user not found (sql_select returned more than one row)" "$(last_reason)"
	expect OK "$e: UTF-8 login and realm" 'jürgen' utf8-pw 'exämple.org'
	expect OK "$e: 900-byte login" "$LONG_LOCAL" long-pw example.org
	expect OK "$e: login@realm in the login, empty realm" s_plain@example.org plain-pw ""
	expect OK "$e: a quote in the login is data" "o'brien" quote-pw example.org
	expect NO "$e: injection in the login" "x' OR '1'='1" plain-pw example.org
	expect NO "$e: injection, comment" "s_plain@example.org' -- " plain-pw ""
	expect NO "$e: injection in the realm" s_plain "example.org' OR 'a'='a" plain-pw
	expect NO "$e: injection, stacked statement" "'; DELETE FROM mailbox; --" x example.org
	expect OK "$e: the table is intact after the injections" s_plain plain-pw example.org
	expect NO "$e: {ROT13} is no scheme" rot13 frperg example.org
	expect NO "$e: the stored hash string is no password" hashonly '{SSHA}NlUwc1S27Dc6zEBMLV4Xmk8omOCSL6dc' example.org
	local t0 t1
	t0=$(now_ms)
	expect NO "$e: bcrypt cost 31 refused" overcap x example.org
	t1=$(now_ms)
	check_match "$e: over-cap reason" 'password_max_bcrypt_cost 12' "$(last_reason)"
	check_match "$e: over-cap refusal is immediate (<1s: $((t1 - t0)) ms)" '^[0-9]{1,3}$' "$((t1 - t0))"
}

# upgrade_cases <engine> <target scheme> <stored-value command> <config lines...>: the hash
# upgrade on login (sql_update), on a daemon started here with those lines plus the
# sql_update keys. The command prints the stored value of the user given as its argument.
UPDATE="sql_update: UPDATE mailbox SET password = %h WHERE username = %U"
upgrade_cases() {
	local e="$1" target="$2" stored="$3" before
	shift 3
	with_ours "up-$e" "$@" "$UPDATE" "sql_upgrade_scheme: $target"
	local mark
	mark=$(wc -l <"$SCRATCH/ours.log")
	since_mark() { tail -n "+$((mark + 1))" "$SCRATCH/ours.log"; }
	before=$($stored up_plain@example.org)
	expect NO "$e upgrade: wrong password" up_plain wrong example.org
	check "$e upgrade: a wrong password changes nothing" "$before" "$($stored up_plain@example.org)"
	for u in md5 plain; do
		expect OK "$e upgrade: $u login" "up_$u" "up-$u-pw" example.org
		check_match "$e upgrade: $u now stored as {$target}" "^\\{$target\\}\\$" "$($stored "up_$u@example.org")"
		check_match "$e upgrade: $u logged" "stored hash of up_$u@example.org upgraded to \\{$target\\}" "$(since_mark)"
		expect OK "$e upgrade: $u logs in with the new hash" "up_$u" "up-$u-pw" example.org
		expect NO "$e upgrade: $u wrong password against the new hash" "up_$u" "up-$u-pw-x" example.org
	done
	before=$($stored up_strong@example.org)
	expect OK "$e upgrade: strong login" up_strong up-strong-pw example.org
	check "$e upgrade: a strong hash is kept" "$before" "$($stored up_strong@example.org)"
	run_check 0 "$e upgrade: --check prepares sql_update"
	check_match "$e upgrade: --check says so" 'sql_select and sql_update prepared' "$CHECK_OUT"
	# a broken sql_update: logins go on, one line says why, --check fails
	with_ours "upbad-$e" "$@" "sql_update: UPDATE mailbox SET nosuchcolumn = %h WHERE username = %U" "sql_upgrade_scheme: $target"
	mark=$(wc -l <"$SCRATCH/ours.log")
	before=$($stored up_bad@example.org)
	expect OK "$e broken sql_update: the login still succeeds" up_bad up-bad-pw example.org
	check "$e broken sql_update: the value is unchanged" "$before" "$($stored up_bad@example.org)"
	check_match "$e broken sql_update: logged" "sql: .*sql_update: .*nosuchcolumn.*no hash upgrades on this connection" "$(since_mark)"
	expect NO "$e broken sql_update: a wrong password is still refused" up_bad wrong example.org
	run_check 1 "$e broken sql_update: --check fails"
	check_match "$e broken sql_update: --check says why" 'sql_update: .*nosuchcolumn' "$CHECK_OUT"
}

# outage <engine> <stop command> <start command> <login> <password>
outage() {
	local e="$1" stop="$2" start="$3" t0 t1
	expect OK "$e: before the outage" s_plain plain-pw example.org
	eval "$stop"
	t0=$(now_ms)
	expect NO "$e: database down: NO" s_plain plain-pw example.org
	t1=$(now_ms)
	check_match "$e: database down: FAIL in the log reason" '^reason=FAIL: database unavailable' "$(last_reason)"
	local r=late
	((t1 - t0 <= TIMEOUT_BOUND_MS)) && r=ok
	check "$e: database down answered within sql_timeout ($((t1 - t0)) ms)" ok "$r"
	eval "$start"
	expect OK "$e: database back: OK without a restart" s_plain plain-pw example.org
}

# run_check <expect exit> <description> [conf]
run_check() {
	local want="$1" desc="$2" rc=0 out
	out=$(timeout 60 "$OURS_SASLAUTHD" --check -m "$SCRATCH/run-check" -a sql -O "${3:-$CONF}" 2>&1) || rc=$?
	check "$desc: exit $want" "$want" "$rc"
	printf -- '--- %s\n%s\n---\n' "$desc" "$out"
	CHECK_OUT="$out"
}

# ---------------------------------------------------------------- sqlite3
if [[ "$ENGINES" == *" sqlite3 "* ]]; then
	DB="$SCRATCH/mail.sqlite"
	{ echo "$CREATE;"; cat "$SQL_ROWS"; } | sqlite3 "$DB"
	with_ours lite "sql_engine: sqlite3" "sql_database: $DB" "sql_select: $SELECT"
	common_cases sqlite3
	run_check 0 "sqlite3: --check good"
	check_match "sqlite3: --check report" 'sqlite3 .*connected, sql_select prepared' "$CHECK_OUT"
	printf '%s\n' "sql_engine: sqlite3" "sql_database: $SCRATCH/none.sqlite" "sql_select: $SELECT" >"$SCRATCH/bad1.conf"
	run_check 1 "sqlite3: --check missing database" "$SCRATCH/bad1.conf"
	printf '%s\n' "sql_engine: sqlite3" "sql_database: $DB" "sql_select: SELECT pw FROM mailbox WHERE username = %u" >"$SCRATCH/bad2.conf"
	run_check 1 "sqlite3: --check bad column" "$SCRATCH/bad2.conf"
	check_match "sqlite3: --check names the problem" 'no such column: pw' "$CHECK_OUT"
	printf '%s\n' "sql_engine: sqlite3" "sql_database: $DB" "sql_select: $SELECT" "sql_timeout: soon" >"$SCRATCH/bad3.conf"
	run_check 1 "sqlite3: --check syntax error" "$SCRATCH/bad3.conf"
	check_match "sqlite3: file:line for a bad value" "bad3.conf:4: sql_timeout must be" "$CHECK_OUT"
	printf '%s\n' "sql_engine: sqlite3" "sql_database: $DB" "sql_select: SELECT password FROM mailbox WHERE username = '%u@%r'" >"$SCRATCH/bad4.conf"
	run_check 1 "sqlite3: a token inside a string literal is refused" "$SCRATCH/bad4.conf"
	check_match "sqlite3: literal refusal says why" "bad4.conf:3: sql_select: %u inside a string literal" "$CHECK_OUT"
	rc=0; "$OURS_SASLAUTHD" -a sql -O "$SCRATCH/bad3.conf" -m "$SCRATCH/run-bad" >"$SCRATCH/bad-start.log" 2>&1 || rc=$?
	check "start with a bad file fails" 1 "$rc"
	check_match "start error has file:line" 'bad3.conf:4: sql_timeout' "$(cat "$SCRATCH/bad-start.log")"
	# SIGHUP: the inactive user may log in once the file says so
	printf '%s\n' "sql_engine: sqlite3" "sql_database: $DB" "sql_select: SELECT password FROM mailbox WHERE username = %U" "sql_timeout: $TIMEOUT_S" >"$CONF"
	kill -HUP "$CUR_PID"
	wait_until 10 bash -c "[[ \$($PYTHON $SASLCLIENT_PY req $SOCK inactive inactive-pw smtp example.org) == OK ]]" && r=OK || r=NO
	check "sqlite3: SIGHUP rereads sql_select" OK "$r"
	# the database file appears only after the start: FAIL, then OK without a restart
	with_ours lite2 "sql_engine: sqlite3" "sql_database: $SCRATCH/later.sqlite" "sql_select: $SELECT"
	expect NO "sqlite3: database file missing" s_plain plain-pw example.org
	check_match "sqlite3: missing file is FAIL" '^reason=FAIL: database unavailable' "$(last_reason)"
	cp "$DB" "$SCRATCH/later.sqlite"
	expect OK "sqlite3: file there: OK without a restart" s_plain plain-pw example.org
	lite_stored() { sqlite3 "$DB" "SELECT password FROM mailbox WHERE username = '$1'"; }
	upgrade_cases sqlite3 BLF-CRYPT lite_stored "sql_engine: sqlite3" "sql_database: $DB" "sql_select: $SELECT"
else
	log "SKIP sqlite3: engine not built"
fi

# ---------------------------------------------------------------- pgsql
if [[ "$ENGINES" == *" pgsql "* ]]; then
	require_pgsql
	start_pgsql pg1
	start_pgsql pg2
	for n in pg1 pg2; do
		pg_sql "$n" "CREATE DATABASE mail" postgres >/dev/null
		pg_sql "$n" "$CREATE" >/dev/null
		PGOPTIONS=-cclient_min_messages=warning psql -X -q -v ON_ERROR_STOP=1 -h "$SCRATCH/$n" -p "$(eval echo \$PG_PORT_$n)" -U postgres -d mail -f "$SQL_ROWS" >/dev/null
		pg_sql "$n" "CREATE ROLE saslauthd LOGIN PASSWORD 'db-secret'; GRANT SELECT ON mailbox TO saslauthd" >/dev/null
	done
	pg_sql pg2 "INSERT INTO mailbox VALUES ('only2@example.org', '{PLAIN}only2-pw', 1, 'example.org')" >/dev/null
	PGBASE=("sql_engine: pgsql" "sql_user: saslauthd" "sql_passwd: db-secret" "sql_database: mail" "sql_select: $SELECT")
	with_ours pgsock "sql_hostnames: $SCRATCH/pg1:$PG_PORT_pg1" "${PGBASE[@]}"
	expect OK "pgsql: over the UNIX socket" s_plain plain-pw example.org
	with_ours pg "sql_hostnames: 127.0.0.1:$PG_PORT_pg1" "${PGBASE[@]}"
	common_cases pgsql
	run_check 0 "pgsql: --check good"
	outage pgsql "stop_pgsql pg1" "start_pgsql pg1"
	# hung: postmaster and backends stopped (SIGSTOP), connection and query wait
	pg_pids() { local pm; pm=$(head -1 "$SCRATCH/pg1/data/postmaster.pid"); echo "$pm" $(ps -o pid= --ppid "$pm"); }
	outage "pgsql hung" 'HUNG=$(pg_pids); kill -STOP $HUNG' 'kill -CONT $HUNG'
	printf '%s\n' "sql_hostnames: 127.0.0.1:$PG_PORT_pg1" "${PGBASE[@]/sql_passwd: db-secret/sql_passwd: wrong}" >"$SCRATCH/pgbad.conf"
	sed -i 's/^sql_passwd: .*/sql_passwd: wrong/; s/^sql_user: .*/sql_user: nobody/' "$SCRATCH/pgbad.conf"
	run_check 1 "pgsql: --check unknown role" "$SCRATCH/pgbad.conf"
	check_match "pgsql: --check says why" 'role "nobody" does not exist' "$CHECK_OUT"
	# failover: pg1 first, pg2 second
	with_ours pgfo "sql_hostnames: 127.0.0.1:$PG_PORT_pg1, 127.0.0.1:$PG_PORT_pg2" "${PGBASE[@]}"
	expect NO "pgsql failover: first server answers (only2 not there)" only2 only2-pw example.org
	stop_pgsql pg1
	expect OK "pgsql failover: second server answers when the first is down" only2 only2-pw example.org
	expect OK "pgsql failover: and keeps answering" s_sha512crypt sha512crypt-pw example.org
	stop_pgsql pg2
	expect NO "pgsql failover: both down" s_plain plain-pw example.org
	check_match "pgsql failover: both down is FAIL naming both" "FAIL: database unavailable: .*127.0.0.1:$PG_PORT_pg2" "$(last_reason)"
	start_pgsql pg1
	pg_sql pg1 "GRANT UPDATE ON mailbox TO saslauthd" >/dev/null
	pg_stored() { psql -X -At -h "$SCRATCH/pg1" -p "$PG_PORT_pg1" -U postgres -d mail -c "SELECT password FROM mailbox WHERE username = '$1'"; }
	upgrade_cases pgsql ARGON2ID pg_stored "sql_hostnames: 127.0.0.1:$PG_PORT_pg1" "${PGBASE[@]}"
	# an update the database refuses when it runs (PostgreSQL checks privileges then)
	pg_sql pg1 "REVOKE UPDATE ON mailbox FROM saslauthd" >/dev/null
	with_ours pg-nogrant "sql_hostnames: 127.0.0.1:$PG_PORT_pg1" "${PGBASE[@]}" "$UPDATE" "sql_upgrade_scheme: ARGON2ID"
	before=$(pg_stored up_bad@example.org)
	expect OK "pgsql refused sql_update: the login still succeeds" up_bad up-bad-pw example.org
	check "pgsql refused sql_update: the value is unchanged" "$before" "$(pg_stored up_bad@example.org)"
	check_match "pgsql refused sql_update: one line says why" \
		"hash upgrade of up_bad@example.org to \\{ARGON2ID\\} failed: sql_update: .*permission denied" "$(tail -5 "$SCRATCH/ours.log")"
else
	log "SKIP pgsql: engine not built"
fi

# ---------------------------------------------------------------- mysql
if [[ "$ENGINES" == *" mysql "* ]]; then
	require_mariadb
	start_mariadb my1
	my_sql my1 "CREATE DATABASE mail CHARACTER SET utf8mb4" mysql
	my_sql my1 "$CREATE DEFAULT CHARSET=utf8mb4"
	mariadb --no-defaults --default-character-set=utf8mb4 -S "$SCRATCH/my1/sock" -u root -D mail <"$SQL_ROWS"
	my_sql my1 "CREATE USER saslauthd@localhost IDENTIFIED BY 'db-secret'; CREATE USER saslauthd@'127.0.0.1' IDENTIFIED BY 'db-secret'; GRANT SELECT ON mail.mailbox TO saslauthd@localhost; GRANT SELECT ON mail.mailbox TO saslauthd@'127.0.0.1'"
	MYBASE=("sql_engine: mysql" "sql_user: saslauthd" "sql_passwd: db-secret" "sql_database: mail" "sql_select: $SELECT")
	with_ours mysock "sql_hostnames: $SCRATCH/my1/sock" "${MYBASE[@]}"
	expect OK "mysql: over the UNIX socket" s_plain plain-pw example.org
	DEAD=$(free_tcp_port)
	with_ours my "sql_hostnames: 127.0.0.1:$DEAD, 127.0.0.1:$MY_PORT_my1" "${MYBASE[@]}"
	common_cases mysql
	run_check 0 "mysql: --check good (one of two servers usable)"
	check_match "mysql: --check names the dead one" "127.0.0.1:$DEAD: Can't connect" "$CHECK_OUT"
	outage mysql "stop_mariadb my1" "start_mariadb my1"
	outage "mysql hung" 'kill -STOP $MY_PID_my1' 'kill -CONT $MY_PID_my1'
	printf '%s\n' "sql_hostnames: 127.0.0.1:$MY_PORT_my1" "${MYBASE[@]}" >"$SCRATCH/mybad.conf"
	sed -i 's/^sql_database: .*/sql_database: nosuchdb/' "$SCRATCH/mybad.conf"
	run_check 1 "mysql: --check unknown database" "$SCRATCH/mybad.conf"
	check_match "mysql: --check says why" "nosuchdb" "$CHECK_OUT"
	my_sql my1 "GRANT UPDATE ON mail.mailbox TO saslauthd@localhost; GRANT UPDATE ON mail.mailbox TO saslauthd@'127.0.0.1'"
	my_stored() { mariadb --no-defaults -N -B -S "$SCRATCH/my1/sock" -u root -D mail -e "SELECT password FROM mailbox WHERE username = '$1'"; }
	upgrade_cases mysql SHA512-CRYPT my_stored "sql_hostnames: 127.0.0.1:$MY_PORT_my1" "${MYBASE[@]}"
else
	log "SKIP mysql: engine not built"
fi

check_no_sanitizer_reports "$SCRATCH/ours.log"
finish

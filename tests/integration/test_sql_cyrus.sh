#!/usr/bin/env bash
# Against Cyrus: the way Cyrus users reach a SQL table, saslauthd -a pam with pam_mysql
# (Debian's libpam-mysql, crypt=1: crypt(3) hashes), and ours -a sql on the same MariaDB
# table give the same verdict for crypt(3) hashes right and wrong, unknown and inactive
# users, UTF-8 logins and injections. Cyrus's real libpam reads /etc/pam.d: the service
# file has a unique name and is removed at exit.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
. "$FIXTURES_DIR/mariadb.sh"

require_root
require_ours sql
require_mariadb
require_cmd mkpasswd "$CYRUS_SASLAUTHD"
printf 'sql_engine: none\n' >"$SCRATCH/engines.conf"
BUILT=" $("$OURS_SASLAUTHD" --check -m "$SCRATCH/run-check" -a sql -O "$SCRATCH/engines.conf" 2>&1 | sed -n 's/.*(built:\(.*\)).*/\1/p' || true) "
[[ "$BUILT" == *" mysql "* ]] || skip_test "sql engine mysql not built"

# login | password | stored value | active
CASES=(
	"ys|ys-pw|$(make_hash yescrypt ys-pw)|1"
	"s512|s512-pw|$(make_hash sha512crypt s512-pw)|1"
	"s256|s256-pw|$(make_hash sha256crypt s256-pw)|1"
	"blf|blf-pw|$(make_hash bcrypt blf-pw)|1"
	"md5c|md5c-pw|$(make_hash md5crypt md5c-pw)|1"
	"inactive|inactive-pw|$(make_hash sha512crypt inactive-pw)|0"
	"jürgen|utf8-pw|$(make_hash sha512crypt utf8-pw)|1"
	"o''brien|quote-pw|$(make_hash sha512crypt quote-pw)|1"
)
start_mariadb cy >/dev/null
SOCK="$SCRATCH/cy/sock"
my_sql cy "CREATE DATABASE mail CHARACTER SET utf8mb4" mysql
my_sql cy "CREATE TABLE mailbox (username VARCHAR(255) NOT NULL, password VARCHAR(255) NOT NULL, active INT NOT NULL) DEFAULT CHARSET=utf8mb4"
for c in "${CASES[@]}"; do
	IFS='|' read -r login pw stored active <<<"$c"
	printf "INSERT INTO mailbox VALUES ('%s', '%s', %s);\n" "$login" "$stored" "$active"
done | mariadb --no-defaults --default-character-set=utf8mb4 -S "$SOCK" -u root -D mail
my_sql cy "CREATE USER saslauthd@localhost IDENTIFIED BY 'db-secret'; GRANT SELECT ON mail.mailbox TO saslauthd@localhost"

pam_mysql_service host="$SOCK" user=saslauthd passwd=db-secret db=mail table=mailbox \
	usercolumn=username passwdcolumn=password where=active=1 crypt=1
printf '%s\n' "sql_engine: mysql" "sql_hostnames: $SOCK" "sql_user: saslauthd" "sql_passwd: db-secret" \
	"sql_database: mail" "sql_select: SELECT password FROM mailbox WHERE username = %u AND active = 1" >"$SCRATCH/sql.conf"
start_cyrus "$SCRATCH/cyrus-run" -a pam -n 2
start_ours "$SCRATCH/ours-run" -a sql -O "$SCRATCH/sql.conf" -n 2

compare() { # <description> <login> <password> <expected>
	local c o
	c=$(saslclient req "$SCRATCH/cyrus-run/mux" "$2" "$3" "$PAM_MYSQL_SERVICE" "")
	o=$(saslclient req "$SCRATCH/ours-run/mux" "$2" "$3" "$PAM_MYSQL_SERVICE" "")
	check "$1: Cyrus + pam_mysql" "$4" "${c%% *}"
	check "$1: ours the same" "$4" "${o%% *}"
}

for c in "${CASES[@]}"; do
	IFS='|' read -r login pw stored active <<<"$c"
	login=${login//\'\'/\'}
	want=OK
	((active)) || want=NO
	compare "${login} right" "$login" "$pw" "$want"
	compare "${login} wrong" "$login" "$pw-x" NO
done
compare "unknown user" nosuch x NO
compare "injection in the login" "x' OR '1'='1" s512-pw NO
compare "injection, comment" "s512' -- " s512-pw NO
compare "the stored hash is no password" s512 "$(make_hash sha512crypt other)" NO
check_no_sanitizer_reports "$SCRATCH/ours.log"
finish

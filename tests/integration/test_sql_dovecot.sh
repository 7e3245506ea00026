#!/usr/bin/env bash
# Differential: our sql mechanism and Dovecot's SQL passdb (`doveadm auth test`) on the same
# SQLite mailbox table give the same verdict for every scheme right and wrong, unknown,
# inactive, NULL, empty, duplicate, UTF-8 and long users and injections. The one deliberate
# difference, a stored hash over a password_max_* cap (we refuse it, Dovecot computes it:
# $2b$31$ takes days), is not run here; test_sql.sh checks our side.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_root
require_ours sql
require_cmd mkpasswd sqlite3 doveadm /usr/sbin/dovecot
[[ -e /usr/lib/dovecot/modules/auth/libdriver_sqlite.so || -e /usr/lib/dovecot/modules/libdriver_sqlite.so ]] ||
	skip_test "dovecot-sqlite not installed"
id dovecot >/dev/null 2>&1 && id dovenull >/dev/null 2>&1 || skip_test "dovecot users missing"

DB="$SCRATCH/mail.sqlite"
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
{
	echo "CREATE TABLE mailbox (username TEXT NOT NULL, password TEXT, active INT NOT NULL, domain TEXT);"
	for c in "${CASES[@]}"; do
		IFS='|' read -r login realm pw stored active <<<"$c"
		v="'$stored'"
		[[ "$stored" == NULL ]] && v=NULL
		printf "INSERT INTO mailbox VALUES ('%s@%s', %s, %s, '%s');\n" "$login" "$realm" "$v" "$active" "$realm"
	done
	echo "INSERT INTO mailbox VALUES ('twin@example.org', '{PLAIN}twin-pw', 1, 'example.org');"
	echo "INSERT INTO mailbox VALUES ('twin@example.org', '{PLAIN}twin-pw', 1, 'example.org');"
} | sqlite3 "$DB"
chmod 0644 "$DB"

# ---------------------------------------------------------------- Dovecot
DOV="$SCRATCH/dovecot"
mkdir -p "$DOV/run" "$DOV/state"
cat >"$DOV/sql.conf.ext" <<EOF
driver = sqlite
connect = $DB
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
start_bg dovecot "$DOV/stdout.log" /usr/sbin/dovecot -F -c "$DOV/dovecot.conf"
wait_until 10 test -S "$DOV/run/auth-client" || die "dovecot did not start: $(tail -5 "$DOV/dovecot.log")"

dovecot_verdict() { # <user@realm> <password>
	if doveadm -c "$DOV/dovecot.conf" auth test -x service=smtp "$1" "$2" >>"$DOV/doveadm.log" 2>&1; then
		echo OK
	else
		echo NO
	fi
}

# ---------------------------------------------------------------- ours
printf '%s\n' "sql_engine: sqlite3" "sql_database: $DB" \
	"sql_select: SELECT password FROM mailbox WHERE username = %U AND active = 1" >"$SCRATCH/sql.conf"
start_ours "$SCRATCH/run" -a sql -O "$SCRATCH/sql.conf" -n 2
ours_verdict() { saslclient req "$SCRATCH/run/mux" "$1" "$2" smtp "$3"; }

compare() { # <description> <login> <realm> <password>
	local d o
	d=$(dovecot_verdict "$2@$3" "$4")
	o=$(ours_verdict "$2" "$4" "$3")
	check "$1: dovecot $d, ours" "$d" "$o"
}

for c in "${CASES[@]}"; do
	IFS='|' read -r login realm pw stored active <<<"$c"
	compare "${login:0:20} right" "$login" "$realm" "$pw"
	compare "${login:0:20} wrong" "$login" "$realm" "$pw-x"
done
compare "unknown user" nosuch example.org x
compare "two rows" twin example.org twin-pw
compare "injection in the login" "x' OR '1'='1" example.org plain-pw
compare "injection in the realm" plain "example.org' OR 'a'='a" plain-pw
compare "stored hash as password" ssha example.org "$(sqlite3 "$DB" "SELECT password FROM mailbox WHERE username = 'ssha@example.org'")"
finish

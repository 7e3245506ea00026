#!/usr/bin/env bash
# Installs what building and testing need, from Debian 12's archive only.
# Used by contrib/quickstart.sh, tests/run.sh and .ci/run, so the list lives in one place.
set -euo pipefail

BUILD_PACKAGES=(build-essential cmake pkg-config libcrypt-dev libdb5.3-dev libpam0g-dev libkrb5-dev
	libldap2-dev libargon2-dev libssl-dev libcurl4-openssl-dev libsystemd-dev
	libpq-dev libmariadb-dev libsqlite3-dev # sql: PostgreSQL, MariaDB/MySQL, SQLite engines
	libhiredis-dev) # --policy-store redis://
# Test peers and tools: Cyrus's own sasl2-bin for interoperability and differential
# tests, cwrap's wrappers for hermetic passwd/shadow/PAM, mkpasswd for hashes.
TEST_PACKAGES=(libcmocka-dev sasl2-bin libnss-wrapper libpam-wrapper whois python3 procps
	krb5-kdc krb5-admin-server krb5-user slapd ldap-utils dovecot-imapd openssl db-util systemd
	man-db mandoc groff-base # test_manpages.sh: man --warnings, mandoc -Tlint
	postfix swaks libsasl2-modules
	util-linux iproute2 # prlimit: test_fd_exhaustion.sh, test_stalled_flood.sh; ss: test_descriptors.sh
	clang libfuzzer-14-dev libclang-rt-14-dev # tests/fuzz/run.sh: libFuzzer with ASan and UBSan
	postgresql-15 mariadb-server sqlite3 # test_sql.sh: scratch servers and the sqlite3 shell
	fail2ban # test_fail2ban.sh: fail2ban-regex on the daemon's lines, with contrib/fail2ban
	dovecot-sqlite dovecot-pgsql dovecot-mysql # test_sql_dovecot.sh: Dovecot's SQL passdb on the same tables
	libpam-mysql # bench/sql-compare.sh: Cyrus -a pam with pam_mysql on the same MariaDB table
	redis-server) # test_policy_redis.sh: the fleet's shared policy store

want=("${BUILD_PACKAGES[@]}")
[ "${1:-}" = "--test" ] && want+=("${TEST_PACKAGES[@]}")

missing=()
for p in "${want[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Installing postfix must not configure (and start) a system mail server.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
# Nor may fail2ban, slapd, Dovecot or the databases start as system services: the tests
# run their own. Debian's policy-rc.d hook (exit 101: "not allowed") does that while
# installing, unless the machine already has one.
POLICY_RC=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$POLICY_RC" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY_RC" >/dev/null
	$SUDO chmod 755 "$POLICY_RC"
	own_policy=1
fi
drop_policy() { [ "$own_policy" = 0 ] || $SUDO rm -f "$POLICY_RC"; }
trap drop_policy EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

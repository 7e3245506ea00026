#!/usr/bin/env bash
# Our saslpasswd2 / sasldblistusers2 against Debian's (Cyrus SASL 2.1.28), both ways:
# files made by Cyrus are listed and changed correctly by ours, files made by ours are
# listed identically by Cyrus's, and the same command lines give the same keys, values
# (compared byte for byte with db_dump), exit statuses and Cyrus messages.
set -euo pipefail

BUILD_DIR="${BUILD_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build}"
OURS_PW="$BUILD_DIR/bin/saslpasswd2"
OURS_LS="$BUILD_DIR/bin/sasldblistusers2"
CYRUS_PW=/usr/sbin/saslpasswd2
CYRUS_LS=/usr/sbin/sasldblistusers2

if [[ ! -x "$CYRUS_PW" ]]; then
	echo "skip: $CYRUS_PW is not installed"
	exit 77
fi
DB_DUMP=$(command -v db5.3_dump || command -v db_dump || true)
DB_LOAD=$(command -v db5.3_load || command -v db_load || true)

SCRATCH=$(mktemp -d /tmp/test-sasldb-tools.XXXXXX)
trap 'rm -rf -- "$SCRATCH"' EXIT
cd "$SCRATCH"
umask 022

passed=0
failed=0
pass() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1"; failed=$((failed + 1)); }
# check <description> <expected> <actual>
check() {
	if [[ "$2" == "$3" ]]; then
		pass "$1"
	else
		fail "$1"
		echo "    expected: $(printf '%q' "$2")"
		echo "    actual:   $(printf '%q' "$3")"
	fi
}

# Every key and value of a file, hex-encoded, one "key value" pair a line, sorted.
pairs() {
	"$DB_DUMP" "$1" | sed -n '/^HEADER=END$/,/^DATA=END$/p' | sed '1d;$d' |
		paste -d' ' - - | sed 's/^ //' | LC_ALL=C sort
}
hex() { od -An -v -tx1 | tr -d ' \n'; }
# The stored value of user@realm's userPassword, hex-encoded ("" if absent).
stored() {
	local key
	key=$(printf '%s\0%s\0userPassword' "$2" "$3" | hex)
	pairs "$1" | awk -v k="$key" '$1 == k { print $2 }'
}
# pw <tool> <password> <args...>: the password on standard input (a file: not a terminal,
# and no SIGPIPE races when the tool does not read it); prints the exit status.
pw() {
	local tool=$1
	printf '%s' "$2" >"$SCRATCH/stdin"
	shift 2
	"$tool" "$@" <"$SCRATCH/stdin" >/dev/null 2>&1 && echo 0 || echo $?
}
# run <tool> <password> <args...>: the same, keeping stdout in ./out and stderr in ./err.
run() {
	local tool=$1
	printf '%s' "$2" >"$SCRATCH/stdin"
	shift 2
	"$tool" "$@" <"$SCRATCH/stdin" >"$SCRATCH/out" 2>"$SCRATCH/err" && echo 0 || echo $?
}
# The last stderr line (Cyrus's own message), with the program path dropped.
last_err() { tail -n1 "$1" | sed -e "s#^$CYRUS_PW#saslpasswd2#" -e "s#^$OURS_PW#saslpasswd2#"; }
# The C library's diagnostic for a bad option, with the program path dropped.
getopt_msg() { grep -E 'invalid option|requires an argument' "$1" | sed 's#^[^:]*/##' || true; }
list_ours() { "$OURS_LS" -f "$1" 2>&1; }
list_cyrus() { "$CYRUS_LS" -f "$1" 2>&1; }

if [[ -n "$DB_DUMP" ]]; then pass "db_dump is available"; else fail "db_dump is available (db-util)"; fi

# Awkward passwords: spaces, quotes, backslashes, UTF-8, a tab, printf-like text.
# shellcheck disable=SC2016 # the last one is deliberately unexpanded
PASSWORDS=(
	'plain'
	'with  two  spaces '
	" leading space"
	"double \"quoted\" and 'single'"
	'back\slash \\ and \n literally'
	$'p\xc3\xa4ssw\xc3\xb6rd \xe2\x82\xac \xf0\x9f\x94\x91'
	$'tab\there'
	'%s%n%x $HOME `id` $(id)'
)

# ---- 1. A file made by Cyrus, read and changed by ours ----
cy=$SCRATCH/cyrus.db
i=0
for p in "${PASSWORDS[@]}"; do
	check "Cyrus saslpasswd2 stores password #$i" 0 "$(pw "$CYRUS_PW" "$p" -p -c -f "$cy" -u example.com "user$i")"
	i=$((i + 1))
done
check "Cyrus saslpasswd2 stores a user of another realm" 0 \
	"$(pw "$CYRUS_PW" 'x' -p -c -f "$cy" -u other.org user0)"
check "our listing of a Cyrus file equals Cyrus's (same lines, same order)" \
	"$(list_cyrus "$cy")" "$(list_ours "$cy")"
check "our listing of a Cyrus file has every entry" 9 "$(list_ours "$cy" | grep -c ': userPassword$')"
check "listing line format" "user0@other.org: userPassword" "$(list_ours "$cy" | grep '@other.org')"

before=$(pairs "$cy")
check "ours adds a user to a Cyrus file" 0 "$(pw "$OURS_PW" 'new one' -p -c -f "$cy" -u example.com added)"
check "Cyrus's entries are byte-identical after our change" "$before" \
	"$(pairs "$cy" | grep -v "^$(printf 'added\0example.com\0userPassword' | hex) ")"
check "our stored value reads back with db_dump" "$(printf 'new one' | hex)" \
	"$(stored "$cy" added example.com)"
check "Cyrus lists the changed file as ours does" "$(list_cyrus "$cy")" "$(list_ours "$cy")"
check "ours changes a password Cyrus stored" 0 "$(pw "$OURS_PW" 'changed' -p -f "$cy" -u example.com user3)"
check "the changed password is stored" "$(printf 'changed' | hex)" "$(stored "$cy" user3 example.com)"
check "the other passwords are untouched" "$(printf '%s' "${PASSWORDS[4]}" | hex)" \
	"$(stored "$cy" user4 example.com)"

# ---- 2. The same command lines through both tools give the same file contents ----
a=$SCRATCH/a.db b=$SCRATCH/b.db
i=0
for p in "${PASSWORDS[@]}"; do
	ca=$(pw "$CYRUS_PW" "$p" -p -c -f "$a" -u example.com "u$i")
	cb=$(pw "$OURS_PW" "$p" -p -c -f "$b" -u example.com "u$i")
	check "password #$i: same exit status" "$ca" "$cb"
	check "password #$i: stored byte for byte" "$(printf '%s' "$p" | hex)" "$(stored "$b" "u$i" example.com)"
	i=$((i + 1))
done
# Cyrus reads one chunk and drops one trailing newline; the rest is the password.
for input in $'nl\n' $'multi\nline\n' 'no newline at all'; do
	pw "$CYRUS_PW" "$input" -p -f "$a" -u example.com nl >/dev/null
	pw "$OURS_PW" "$input" -p -f "$b" -u example.com nl >/dev/null
	check "newline handling for $(printf '%q' "$input")" "$(stored "$a" nl example.com)" \
		"$(stored "$b" nl example.com)"
done
long=$(head -c 2048 /dev/zero | tr '\0' 'L')
check "a 2048-byte password: same status" "$(pw "$CYRUS_PW" "$long" -p -f "$a" -u example.com long)" \
	"$(pw "$OURS_PW" "$long" -p -f "$b" -u example.com long)"
check "a 2048-byte password: same value" "$(stored "$a" long example.com)" "$(stored "$b" long example.com)"
# Standard input that is not a terminal is read as with -p, in both.
check "no -p, stdin a pipe: same status" "$(pw "$CYRUS_PW" 'piped' -f "$a" -u example.com piped)" \
	"$(pw "$OURS_PW" 'piped' -f "$b" -u example.com piped)"
check "no -p, stdin a pipe: same value" "$(stored "$a" piped example.com)" "$(stored "$b" piped example.com)"
# Realm rules: "user@realm" splits at the first '@' and overrides -u; -u '' means the host name.
for args in "-u example.com split@realm.net" "-u example.com two@at@signs" "nodomain" \
	"-u example.com @norealmuser" "-u example.com trailing@"; do
	# shellcheck disable=SC2086
	check "realm rules, args '$args': same status" "$(pw "$CYRUS_PW" 'r' -p -f "$a" $args)" \
		"$(pw "$OURS_PW" 'r' -p -f "$b" $args)"
done
check "realm rules, -u '': same status" "$(pw "$CYRUS_PW" 'r' -p -f "$a" -u '' emptyu)" \
	"$(pw "$OURS_PW" 'r' -p -f "$b" -u '' emptyu)"
check "-u '' (empty) uses the host name, as in Cyrus" "$(printf 'r' | hex)" "$(stored "$b" emptyu "$(uname -n)")"
check "no -u uses the host name, as in Cyrus" "$(printf 'r' | hex)" "$(stored "$b" nodomain "$(uname -n)")"
check "both files hold the same keys and values" "$(pairs "$a")" "$(pairs "$b")"
check "Cyrus lists our file exactly as ours does" "$(list_cyrus "$b")" "$(list_ours "$b")"
check "both tools list both files alike (sorted)" "$(list_cyrus "$a" | sort)" "$(list_ours "$b" | sort)"

# ---- 3. -c on an existing user, a missing user without -c ----
ca=$(pw "$CYRUS_PW" 'second' -p -c -f "$a" -u example.com u0)
cb=$(pw "$OURS_PW" 'second' -p -c -f "$b" -u example.com u0)
check "-c on an existing user: Cyrus replaces the password (status 0)" 0 "$ca"
check "-c on an existing user: ours does the same" "$ca" "$cb"
check "-c on an existing user: same stored value" "$(stored "$a" u0 example.com)" "$(stored "$b" u0 example.com)"
check "no -c for a missing user: same status" "$(pw "$CYRUS_PW" 'fresh' -p -f "$a" -u example.com fresh)" \
	"$(pw "$OURS_PW" 'fresh' -p -f "$b" -u example.com fresh)"
check "no -c for a missing user: created" "$(printf 'fresh' | hex)" "$(stored "$b" fresh example.com)"

# ---- 4. -d ----
if [[ -n "$DB_LOAD" ]]; then
	# a second property of u1, as Cyrus's mechanisms once stored
	printf 'u1\\00example.com\\00cmusaslsecretPLAIN\nsecret\n' | "$DB_LOAD" -T -t hash "$b"
fi
check "-d: status 0" 0 "$(pw "$OURS_PW" '' -d -f "$b" -u example.com u1)"
check "-d: the user is gone from our listing" "" "$(list_ours "$b" | grep '^u1@example.com:' || true)"
check "-d: the user is gone from Cyrus's listing" "" "$(list_cyrus "$b" | grep '^u1@example.com:' || true)"
check "-d: other users remain" "$(list_ours "$a" | grep -v '^u1@example.com:' | sort)" "$(list_ours "$b" | sort)"
check "-d: Cyrus and ours list the result identically" "$(list_cyrus "$b")" "$(list_ours "$b")"
pw "$CYRUS_PW" '' -d -f "$a" -u example.com u1 >/dev/null
check "-d: same keys and values as after Cyrus's -d" "$(pairs "$a")" "$(pairs "$b")"
check "-d of an absent user: Cyrus's status" 0 "$(pw "$CYRUS_PW" '' -d -f "$a" -u example.com nobody)"
check "-d of an absent user: ours, same status" 0 "$(run "$OURS_PW" '' -d -f "$b" -u example.com nobody)"
check "-d of an absent user: silent, like Cyrus" "" "$(cat out err)"
check "-d of an absent user: file unchanged" "$(pairs "$a")" "$(pairs "$b")"
check "-d of the last user of Cyrus's file, by ours" 0 "$(pw "$OURS_PW" '' -d -f "$cy" -u other.org user0)"
check "-d by ours: Cyrus's file keeps the others" 9 "$(list_cyrus "$cy" | grep -c ': userPassword$')"

# ---- 5. Ownership, mode, new files ----
m=$SCRATCH/mode.db
pw "$OURS_PW" 'x' -p -f "$m" -u r u >/dev/null
pw "$CYRUS_PW" 'x' -p -f "$SCRATCH/cmode.db" -u r u >/dev/null
check "a new file gets Cyrus's mode (0660 minus umask)" "$(stat -c %a "$SCRATCH/cmode.db")" "$(stat -c %a "$m")"
check "a new file is a Berkeley DB hash" "$(file -b "$SCRATCH/cmode.db")" "$(file -b "$m")"
chmod 0604 "$m"
if [[ $(id -u) == 0 ]]; then chown 65534:65534 "$m"; fi
owner=$(stat -c '%u:%g %a' "$m")
pw "$OURS_PW" 'y' -p -f "$m" -u r v >/dev/null
check "owner, group and mode are kept" "$owner" "$(stat -c '%u:%g %a' "$m")"
check "no temporary files are left" "" "$(find "$SCRATCH" -name '*.db.??????' -print)"

# ---- 6. Errors ----
crc=$(run "$CYRUS_PW" 'pw-sentinel' -p -f "$SCRATCH/no/dir/x.db" -u r u); mv err cerr
orc=$(run "$OURS_PW" 'pw-sentinel' -p -f "$SCRATCH/no/dir/x.db" -u r u); mv err oerr
check "missing directory: same status" "$crc" "$orc"
check "missing directory: Cyrus's message last" "$(last_err cerr)" "$(last_err oerr)"
check "missing directory: no password in the messages" "" "$(grep -F pw-sentinel oerr || true)"

head -c 12288 /dev/urandom >"$SCRATCH/bad.db"
cp "$SCRATCH/bad.db" "$SCRATCH/bad.orig"
cp "$SCRATCH/bad.db" "$SCRATCH/bad.cyrus"
crc=$(run "$CYRUS_PW" 'pw-sentinel' -p -f "$SCRATCH/bad.cyrus" -u r u); mv err cerr
orc=$(run "$OURS_PW" 'pw-sentinel' -p -f "$SCRATCH/bad.db" -u r u); mv err oerr
check "corrupt file: same status" "$crc" "$orc"
check "corrupt file: Cyrus's message last" "$(last_err cerr)" "$(last_err oerr)"
if cmp -s "$SCRATCH/bad.db" "$SCRATCH/bad.orig"; then
	pass "corrupt file: left byte-identical"
else
	fail "corrupt file: left byte-identical"
fi
check "corrupt file: no password in the messages" "" "$(grep -F pw-sentinel oerr || true)"
for f in bad.db missing.db; do
	"$CYRUS_LS" -f "$SCRATCH/$f" >cout 2>cerr && crc=0 || crc=$?
	"$OURS_LS" -f "$SCRATCH/$f" >oout 2>oerr && orc=0 || orc=$?
	check "sasldblistusers2 on $f: same status" "$crc" "$orc"
	check "sasldblistusers2 on $f: nothing on stdout" "$(cat cout)" "$(cat oout)"
	check "sasldblistusers2 on $f: Cyrus's message last" "$(tail -n1 cerr)" "$(tail -n1 oerr)"
done

crc=$(run "$CYRUS_PW" '' -p -f "$a" -u r empty); mv err cerr
orc=$(run "$OURS_PW" '' -p -f "$b" -u r empty); mv err oerr
check "empty password: same status" "$crc" "$orc"
check "empty password: same message" "$(last_err cerr)" "$(last_err oerr)"

# ---- 7. Command line ----
for args in "-h" "-x" "" "-c -d u" "-f" "u1 u2"; do
	# shellcheck disable=SC2086
	"$CYRUS_PW" $args </dev/null >/dev/null 2>cerr && crc=0 || crc=$?
	# shellcheck disable=SC2086
	"$OURS_PW" $args </dev/null >/dev/null 2>oerr && orc=0 || orc=$?
	check "saslpasswd2 '$args': same status" "$crc" "$orc"
	check "saslpasswd2 '$args': same getopt message" "$(getopt_msg cerr)" "$(getopt_msg oerr)"
	check "saslpasswd2 '$args': same usage text" "$(grep -A20 ': usage:' cerr)" "$(grep -A20 ': usage:' oerr)"
done
for args in "-h" "-x" "-f" "-f a b"; do
	# shellcheck disable=SC2086
	"$CYRUS_LS" $args >/dev/null 2>cerr && crc=0 || crc=$?
	# shellcheck disable=SC2086
	"$OURS_LS" $args >/dev/null 2>oerr && orc=0 || orc=$?
	check "sasldblistusers2 '$args': same status" "$crc" "$orc"
	check "sasldblistusers2 '$args': same getopt message" "$(getopt_msg cerr)" "$(getopt_msg oerr)"
	check "sasldblistusers2 '$args': same usage text" "$(grep -A20 ': usage:' cerr)" "$(grep -A20 ': usage:' oerr)"
done
check "sasldblistusers2 FILE (no -f) lists FILE" "$(list_cyrus "$b")" "$("$OURS_LS" "$b" 2>&1)"
crc=$(run "$CYRUS_PW" '' -a bad/name u); mv err cerr
orc=$(run "$OURS_PW" '' -a bad/name u); mv err oerr
check "-a with a slash: same status" "$crc" "$orc"
check "-a with a slash: same message" "$(cat cerr)" "$(cat oerr)"
check "-a with a slash: Cyrus's status is 1" 1 "$orc"
"$OURS_PW" -v >/dev/null 2>&1 && orc=0 || orc=$?
check "saslpasswd2 -v exits 0" 0 "$orc"
"$OURS_LS" -v >/dev/null 2>&1 && orc=0 || orc=$?
check "sasldblistusers2 -v exits 0" 0 "$orc"
check "-n is refused (nothing but userPassword is stored)" 1 "$(run "$OURS_PW" 'x' -p -n -f "$b" -u r nflag)"
check "-n explains itself" 1 "$(grep -c -- '-n is not supported' err)"
check "-n changes nothing" "" "$(stored "$b" nflag r)"

# ---- 8. On a terminal: prompts, no echo, verification ----
PYTHON=$(command -v /usr/bin/python3 python3 | head -n1 || true)
# on_tty <lines separated by |> <program> <args...>: the transcript and the exit status.
# Each line is typed only once a prompt ("...: ") is shown and echo is off: input typed
# earlier would be echoed and then discarded (TCSAFLUSH). Cyrus turns echo off only
# after printing the prompt.
on_tty() {
	INPUTS=$1 "$PYTHON" - "${@:2}" <<'PY'
import os, pty, select, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
def read_until(done, timeout):
    global out
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        out += data
    return True
for line in os.environ["INPUTS"].split("|"):
    mark = len(out)
    def prompted():
        return out[mark:].endswith(b": ") and not termios.tcgetattr(fd)[3] & termios.ECHO
    if not read_until(prompted, 10.0):
        break
    os.write(fd, line.encode() + b"\n")
read_until(lambda: False, 2.0)
for _ in range(100):
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.1)
else:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    status = 255 << 8
    out += b" (killed: still waiting for input)"
sys.stdout.write(repr(out.replace(b"\r", b"")) + " rc=%d\n" % os.WEXITSTATUS(status))
PY
}
if [[ -n "$PYTHON" ]]; then
	for inputs in 'tty pw|tty pw' 'one|two' '|'; do
		c=$(on_tty "$inputs" "$CYRUS_PW" -f "$a" -u tty.example t)
		o=$(on_tty "$inputs" "$OURS_PW" -f "$b" -u tty.example t)
		check "terminal input '$inputs': same prompts, messages and status" "${c//$CYRUS_PW/}" "${o//$OURS_PW/}"
	done
	check "terminal: the password is not echoed" 0 "$(on_tty 'tty pw|tty pw' "$OURS_PW" -f "$b" -u tty.example t | grep -c 'tty pw' || true)"
	check "terminal: the verified password is stored" "$(printf 'tty pw' | hex)" "$(stored "$b" t tty.example)"
	check "terminal: same value as Cyrus's" "$(stored "$a" t tty.example)" "$(stored "$b" t tty.example)"
else
	echo "note: python3 not found, terminal checks not run"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

#!/usr/bin/env bash
# Differential test: the same request corpus (differential_corpus.tsv) is sent to
# Debian's Cyrus saslauthd and to ours, both started with the same flags, for the
# sasldb, getpwent and shadow mechanisms, with and without -r; the whole reply
# text must be byte-identical, except for the deliberate differences listed in
# the corpus (DIFF a: 257..1024-byte fields accepted by ours, longer ones refused
# with a reason; DIFF b: a NUL byte inside a field refused with a reason; DIFF d: a
# client address whose host part is over 255 bytes refused with a reason), where
# OUR documented behaviour is asserted instead; DIFF c: an unknown user whose
# lookup leaves errno = ENOENT is a "lookup failure" to Cyrus, "Invalid username"
# to ours.
#
# sasldb: Cyrus only reads /etc/sasldb2, so the accounts are added there with
# Debian's saslpasswd2 (and db_load for keys saslpasswd2 cannot make); the file
# is backed up first and restored at exit. Ours gets a copy of it with -O.
# getpwent/shadow: both daemons run under nss_wrapper with the same files.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

CORPUS="$SOURCE_DIR/tests/integration/differential_corpus.tsv"

require_root
require_cmd "$CYRUS_SASLAUTHD" "$CYRUS_SASLPASSWD2" mkpasswd "$PYTHON"
require_nss_wrapper
# DIFF_MECHS narrows the run (debugging); the default is every mechanism.
read -r -a MECHS <<<"${DIFF_MECHS:-sasldb getpwent shadow}"
require_ours "${MECHS[@]}"

HOST="$(hostname)"
T0=$(now_ms)

backup_etc_sasldb2

# ---------------------------------------------------------------- corpus helper
cat >"$SCRATCH/corpus.py" <<'PY'
import os, re, shutil, subprocess, sys
sys.path.insert(0, os.environ["FIXTURES_DIR"])
from saslclient import decode_field, format_bytes

def rows(path, host):
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = [c.replace("@HOST@", host) for c in line.split("\t")]
            yield n, cols

def prepare(corpus, host, scratch, etc_db):
    raw = []
    pw_lines, sp_lines = [], []
    hashes = {}
    uid = 3000
    reqs = {"sasldb": [], "unix": []}
    meta = []
    seen = set()

    def field(spec):
        for prefix in ("hash:", "!hash:"):
            if spec.startswith(prefix):
                scheme, pw = spec[len(prefix):].split(":", 1)
                key = (scheme, pw)
                if key not in hashes:
                    hashes[key] = subprocess.run(
                        ["mkpasswd", "-m", scheme, "--stdin"], input=decode_field(pw),
                        check=True, capture_output=True).stdout.strip()
                return (b"!" if prefix == "!hash:" else b"") + hashes[key]
        return decode_field(spec)

    for n, c in rows(corpus, host):
        kind = c[0]
        if kind == "sasldb":
            login, realm, pw = (decode_field(x) for x in c[1:4])
            subprocess.run(["saslpasswd2", "-f", etc_db, "-p", "-c", "-u", realm, login],
                           input=pw, check=True)
        elif kind == "sasldb-raw":
            login, realm, pw = (decode_field(x) for x in c[1:4])
            raw.append((login + b"\0" + realm + b"\0userPassword", pw))
        elif kind == "unix":
            login = decode_field(c[1])
            pwf, spf = field(c[2]), field(c[3])
            lstchg, mx, expire = (x.encode() for x in c[4:7])
            uid += 1
            pw_lines.append(b"%s:%s:%d:3000:test:/nonexistent:/bin/false\n" % (login, pwf, uid))
            sp_lines.append(b"%s:%s:%s::%s:::%s:\n" % (login, spf, lstchg, mx, expire))
        elif kind == "req":
            rid, mechs, form = c[1], c[2], int(c[3])
            if rid in seen:
                sys.exit("duplicate request id %s (line %d)" % (rid, n))
            seen.add(rid)
            fields = c[4:4 + form]
            diff, ours, ours_r = c[9], c[10], c[11]
            dec = [decode_field(x) for x in c[4:8]]
            # Classify from the bytes, to catch corpus mistakes.
            long_ = any(len(x) > 256 for x in dec)
            nul = any(b"\0" in x for x in dec)
            addr = decode_field(c[8]) if form == 5 else b""
            long_host = len(addr.split(b";")[0]) > 255 and len(addr) <= 1024
            want = "b" if nul else ("a" if long_ else ("d" if long_host else "-"))
            if want != diff and not (diff == "c" and want == "-"):
                print("CORPUS-ERROR\t%s\tDIFF column says %s, the fields say %s" % (rid, diff, want))
            for m in ("sasldb", "unix"):
                if mechs in (m, "all"):
                    reqs[m].append("%s\t%d\t%s\n" % (rid, form, "\t".join(fields)))
            meta.append("\t".join([rid, mechs, diff, ours, ours_r]) + "\n")
        else:
            sys.exit("unknown row kind %r at line %d" % (kind, n))

    if raw and not shutil.which("db_load"):
        print("NOTE\tdb_load (package db-util) missing: %d sasldb-raw accounts left out "
              "(both daemons still read the same file)" % len(raw))
        raw = []
    if raw:
        def pr(b):  # db_dump -p "printable" encoding
            return "".join(chr(x) if 0x20 <= x < 0x7f and x != 0x5c else
                           ("\\\\" if x == 0x5c else "\\%02x" % x) for x in b)
        text = "VERSION=3\nformat=print\ntype=hash\nHEADER=END\n"
        for k, v in raw:
            text += " %s\n %s\n" % (pr(k), pr(v))
        text += "DATA=END\n"
        subprocess.run(["db_load", "-f", "/dev/stdin", etc_db], input=text.encode(), check=True)
    with open(os.path.join(scratch, "passwd"), "wb") as f:
        f.writelines(pw_lines)
    with open(os.path.join(scratch, "group"), "wb") as f:
        f.write(b"testusers:x:3000:\n")
    with open(os.path.join(scratch, "shadow"), "wb") as f:
        f.writelines(sp_lines)
    for m, lines in reqs.items():
        with open(os.path.join(scratch, "req.%s" % m), "w") as f:
            f.writelines(lines)
    with open(os.path.join(scratch, "meta.tsv"), "w") as f:
        f.writelines(meta)

def load(path):
    out = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            rid, reply = line.rstrip("\n").split("\t", 1)
            out[rid] = reply
    return out

def out(*cols):
    print("\x1f".join(cols))

def compare(scratch, mech, mode):
    """Prints one check per request: kind, description, expected, actual separated
    by US (0x1f), plus LIST lines for the deliberate differences."""
    group = "sasldb" if mech == "sasldb" else "unix"
    meta = {}
    for line in open(os.path.join(scratch, "meta.tsv"), encoding="utf-8"):
        rid, mechs, diff, ours, ours_r = line.rstrip("\n").split("\t")
        meta[rid] = (diff, ours if mode == "plain" else ours_r)
    cy = load(os.path.join(scratch, "out.cyrus.%s.%s" % (mech, mode)))
    us = load(os.path.join(scratch, "out.ours.%s.%s" % (mech, mode)))
    ids = [l.split("\t", 1)[0] for l in open(os.path.join(scratch, "req.%s" % group))]
    for rid in ids:
        diff, expect = meta[rid]
        c, o = cy.get(rid, "<MISSING>"), us.get(rid, "<MISSING>")
        tag = "%s %s %s" % (mech, "-r" if mode == "r" else "  ", rid)
        if diff == "-":
            out("eq", "%s: ours == cyrus" % tag, c, o)
            continue
        if diff == "c":
            # Deliberate: an unknown user whose lookup leaves errno = ENOENT (nss_wrapper,
            # and NSS modules such as sssd) is "Username lookup failure" to Cyrus; POSIX
            # says ENOENT/ESRCH/EBADF/EPERM mean "no such entry", so ours says so.
            if c == o:
                out("eq", "%s: ours == cyrus" % tag, c, o)
                continue
            out("LIST", tag, "(c)", "cyrus [%s]  ours [%s]" % (c, o))
            out("eq", "%s: cyrus reports ENOENT as a lookup failure" % tag,
                "NO Username lookup failure: No such file or directory", c)
            out("eq", "%s: ours (deliberate c)" % tag, "NO Invalid username", o)
            continue
        out("LIST", tag, "(%s)" % diff, "cyrus [%s]  ours [%s]" % (c, o))
        if diff == "a":
            out("eq", "%s: cyrus refuses a field > 256 bytes with 'NO '" % tag, "NO ", c)
        if expect.startswith("~"):
            out("re", "%s: ours (deliberate %s)" % (tag, diff), expect[1:], o)
        else:
            out("eq", "%s: ours (deliberate %s)" % (tag, diff), expect, o)

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "prepare":
        prepare(*sys.argv[2:6])
    elif cmd == "compare":
        compare(*sys.argv[2:5])
    elif cmd == "count":
        print(sum(1 for _, c in rows(sys.argv[2], "") if c[0] == "req"))
PY
export FIXTURES_DIR

CORPUS_SIZE=$("$PYTHON" "$SCRATCH/corpus.py" count "$CORPUS")
log "corpus: $CORPUS_SIZE requests ($CORPUS)"

prep_out=$("$PYTHON" "$SCRATCH/corpus.py" prepare "$CORPUS" "$HOST" "$SCRATCH" /etc/sasldb2)
grep '^NOTE' <<<"$prep_out" >&2 || true
check "corpus DIFF column matches the field contents" "" "$(grep -v '^NOTE' <<<"$prep_out" || true)"
cp /etc/sasldb2 "$SCRATCH/sasldb2"
check "Debian sasldblistusers2 reads the prepared /etc/sasldb2" 0 \
	"$("$CYRUS_SASLDBLISTUSERS2" -f /etc/sasldb2 >/dev/null 2>&1; echo $?)"

# ---------------------------------------------------------------- run both daemons
COMPARISONS=0
for mode in plain r; do
	rflag=()
	[[ "$mode" == r ]] && rflag=(-r)
	for mech in "${MECHS[@]}"; do
		if [[ "$mech" == sasldb ]]; then
			group=sasldb
			no_nss_wrapper
			ours_extra=(-O "$SCRATCH/sasldb2")
		else
			group=unix
			use_nss_wrapper "$SCRATCH/passwd" "$SCRATCH/group" "$SCRATCH/shadow"
			ours_extra=()
		fi
		start_cyrus "$SCRATCH/run-cyrus-$mech-$mode" -a "$mech" ${rflag[@]+"${rflag[@]}"}
		cpid=$DAEMON_PID
		start_ours "$SCRATCH/run-ours-$mech-$mode" -a "$mech" ${rflag[@]+"${rflag[@]}"} "${ours_extra[@]+"${ours_extra[@]}"}"
		opid=$DAEMON_PID
		saslclient batch "$SCRATCH/run-cyrus-$mech-$mode/mux" "$SCRATCH/req.$group" >"$SCRATCH/out.cyrus.$mech.$mode"
		saslclient batch "$SCRATCH/run-ours-$mech-$mode/mux" "$SCRATCH/req.$group" >"$SCRATCH/out.ours.$mech.$mode"
		check "$mech ${rflag[*]:-  } cyrus still running after the corpus" yes "$(yesno pid_alive "$cpid")"
		check "$mech ${rflag[*]:-  } ours still running after the corpus" yes "$(yesno pid_alive "$opid")"
		stop_pid "$opid"
		stop_pid "$cpid"
		while IFS=$'\x1f' read -r kind desc expected actual; do
			case "$kind" in
			eq) check "$desc" "$expected" "$actual"; COMPARISONS=$((COMPARISONS + 1)) ;;
			re) check_match "$desc" "$expected" "$actual"; COMPARISONS=$((COMPARISONS + 1)) ;;
			LIST) printf '%s\n' "$desc $expected $actual" >>"$SCRATCH/deliberate.txt" ;;
			esac
		done < <("$PYTHON" "$SCRATCH/corpus.py" compare "$SCRATCH" "$mech" "$mode")
	done
done
no_nss_wrapper

echo "Deliberate differences of ours (OUR behaviour asserted, Cyrus's shown):"
sed 's/^/  /' "$SCRATCH/deliberate.txt"
echo "corpus size: $CORPUS_SIZE requests; $COMPARISONS reply comparisons (${MECHS[*]} x without/with -r); $(($(now_ms) - T0)) ms"
check_no_sanitizer_reports "$SCRATCH/ours.log"
finish

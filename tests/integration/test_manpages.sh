#!/usr/bin/env bash
# The man pages (man/*.[0-9]): each formats without a single warning under man-db/groff
# and mandoc's linter, and the pages cannot fall behind the code: every option that
# `saslauthd -h` prints and every mechanism `saslauthd -v` lists has its own entry in
# saslauthd.8, every key the ldap, kerberos5 and httpform readers know appears in
# saslauthd.conf.5, and every cross-reference between our pages names a page we ship.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

MAN_DIR=$SOURCE_DIR/man
shopt -s nullglob
pages=("$MAN_DIR"/*.[0-9])
shopt -u nullglob
((${#pages[@]})) || die "no man pages in $MAN_DIR"

# Nothing from the caller's man configuration; a locale that always exists, so that man
# has no reason to complain about the environment rather than the page.
unset MANOPT MANWIDTH MANROFFOPT MANPAGER PAGER MAN_KEEP_FORMATTING
if [[ -e /usr/lib/locale/C.utf8 || "$(locale -a 2>/dev/null)" =~ (^|$'\n')[Cc]\.[Uu][Tt][Ff]-?8($'\n'|$) ]]; then
	export LC_ALL=C.UTF-8
else
	export LC_ALL=C
fi

# roff source with the escapes that do not change the words removed: \- becomes -,
# font changes, \& \% \c disappear.
plain_source() {
	sed -e 's/\\-/-/g' -e 's/\\f\[[A-Z]*\]//g' -e 's/\\f[A-Z]//g' -e 's/\\[&%c]//g' "$1"
}

# The tags of the .TP entries of a page (first word of the line after each .TP, without
# its macro): options, mechanisms, keys, files, ...
tp_tags() {
	plain_source "$1" | awk '
		tag { if ($1 ~ /^\./) print $2; else print $1; tag = 0; next }
		/^\.TP/ { tag = 1 }'
}

# ---------------------------------------------------------------- formatting

have_man=1
if ! command -v man >/dev/null 2>&1; then
	have_man=0
	check "man (man-db) is installed (contrib/deps.sh --test installs it)" yes no
fi
have_mandoc=1
if ! command -v mandoc >/dev/null 2>&1; then
	have_mandoc=0
	printf 'SKIP: mandoc not installed (contrib/deps.sh --test installs it): no mandoc -Tlint checks\n'
fi

for page in "${pages[@]}"; do
	name=${page##*/}
	if ((have_man)); then
		rc=0
		out=$(man --warnings -l -Tutf8 "$page" 2>&1 >/dev/null) || rc=$?
		check "$name: man --warnings -l -Tutf8 prints nothing" "" "$out"
		check "$name: man --warnings -l -Tutf8 exits 0" 0 "$rc"
	fi
	if ((have_mandoc)); then
		rc=0
		out=$(mandoc -Tlint -W warning "$page" 2>&1) || rc=$?
		check "$name: mandoc -Tlint -W warning prints nothing" "" "$out"
		check "$name: mandoc -Tlint -W warning exits 0" 0 "$rc"
	fi
	# .TH NAME SECTION must name this file, or man -k and cross-references disagree.
	th=$(awk '/^\.TH / { print tolower($2) " " $3; exit }' "$page")
	base=${name%.*}
	check "$name: .TH names the page and its section" "$base ${name##*.}" "$th"
done

# ---------------------------------------------------------------- cross-references

for page in "${pages[@]}"; do
	while read -r ref; do
		[[ -n "$ref" ]] || continue
		target="${ref%(*}.${ref#*(}"
		target=${target%)}
		check "${page##*/}: reference $ref is a page in man/" yes \
			"$([[ -f "$MAN_DIR/$target" ]] && echo yes || echo "no ($MAN_DIR/$target missing)")"
	done < <(plain_source "$page" |
		grep -oE '^\.BR (saslauthd|testsaslauthd|saslpasswd2|sasldblistusers2)(\.conf)? \([0-9]\)' |
		sed -E 's/^\.BR ([^ ]+) \(([0-9])\)$/\1(\2)/' | sort -u || true)
done

# ---------------------------------------------------------------- saslauthd.8 and the code

if [[ ! -f "$MAN_DIR/saslauthd.8" ]]; then
	check "man/saslauthd.8 exists" yes no
elif [[ ! -x "$OURS_SASLAUTHD" ]]; then
	printf 'SKIP: %s not built: options and mechanisms not compared with saslauthd.8\n' "$OURS_SASLAUTHD"
else
	rc=0
	help=$("$OURS_SASLAUTHD" -h 2>&1 >/dev/null) || rc=$?
	check "saslauthd -h exits 0" 0 "$rc"
	mapfile -t tags < <(tp_tags "$MAN_DIR/saslauthd.8" | sort -u)
	has_tag() {
		local t
		for t in "${tags[@]}"; do [[ "$t" == "$1" ]] && return 0; done
		return 1
	}
	mapfile -t long_opts < <(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u || true)
	check "saslauthd -h lists long options (else this test's parsing is out of date)" yes \
		"$(yesno test "${#long_opts[@]}" -gt 0)"
	for opt in "${long_opts[@]}"; do
		check "saslauthd.8 documents $opt (an OPTIONS entry)" yes "$(yesno has_tag "$opt")"
	done
	mapfile -t short_opts < <(sed -nE 's/^  (-[A-Za-z])( .*)?$/\1/p' <<<"$help" | sort -u)
	check "saslauthd -h lists short options (else this test's parsing is out of date)" yes \
		"$(yesno test "${#short_opts[@]}" -gt 0)"
	for opt in "${short_opts[@]}"; do
		check "saslauthd.8 documents $opt (an OPTIONS entry)" yes "$(yesno has_tag "$opt")"
	done
	mechs=$(ours_mechanisms)
	check "saslauthd -v lists mechanisms" yes "$(yesno test -n "$mechs")"
	for mech in $mechs; do
		check "saslauthd.8 documents mechanism $mech (a MECHANISMS entry)" yes \
			"$(yesno has_tag "$mech")"
	done
fi

# ---------------------------------------------------------------- saslauthd.conf.5 and the code

# keys_of <source file> <extended regex matching the quoted key>: the keys a reader knows.
keys_of() {
	grep -oE -- "$2" "$1" | grep -oE '[a-z0-9_]+' | grep -E '^(ldap|krb5|httpform|sql|password)_' | sort -u || true
}

conf=$MAN_DIR/saslauthd.conf.5
if [[ ! -f "$conf" ]]; then
	check "man/saslauthd.conf.5 exists" yes no
else
	conf_text=$(plain_source "$conf")
	for spec in \
		'ldap_config.c|"ldap_[a-z0-9_]+"' \
		'krb5.c|config_get(_bool)?\(cfg, "krb5_[a-z0-9_]+"' \
		'httpform.c|"httpform_[a-z0-9_]+"' \
		'sql_config.c|"sql_[a-z0-9_]+"' \
		'../common/stored_hash.c|"password_max_[a-z0-9_]+"'; do
		src=$SOURCE_DIR/mechanisms/${spec%%|*}
		[[ -f "$src" ]] || continue
		mapfile -t keys < <(keys_of "$src" "${spec#*|}")
		check "keys found in ${src##*/} (else this test's parsing is out of date)" yes \
			"$(yesno test "${#keys[@]}" -gt 0)"
		for key in "${keys[@]}"; do
			check "saslauthd.conf.5 documents $key" yes \
				"$(yesno grep -qw -- "$key" <<<"$conf_text")"
		done
	done
fi

finish

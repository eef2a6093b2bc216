#!/usr/bin/env bash
# Shared helpers for the guest-images scripts. Source it, do not run it:
#   . "$(dirname "$0")/lib.sh"
#
# Everything these scripts make lives in one cache outside the repo:
#   ${NESTBOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nestbox}
# Progress and messages go to stderr; stdout carries only result paths.
# Failures end with a single "guest-images: ..." line and a non-zero exit.

set -euo pipefail
set -E # the ERR trap below also fires inside functions

# shellcheck disable=SC2034 # used by the scripts that source this file
GI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GI_TAG=${GI_TAG:-$(basename "$0")}
GI_CACHE=${NESTBOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nestbox}
# System apt source file whose bookworm stanza gives the archive URIs and key.
GI_SYSTEM_SOURCES=${GI_SYSTEM_SOURCES:-/etc/apt/sources.list.d/debian.sources}
# Refresh an isolated apt tree's package lists when older than this (seconds).
GI_APT_MAX_AGE=${NESTBOX_APT_MAX_AGE:-86400}
# Downloads land in the user's cache, which apt's _apt sandbox user cannot
# write; as root say so up front instead of having apt warn about it.
GI_APT_SANDBOX=()
[ "$(id -u)" != 0 ] || GI_APT_SANDBOX=(-o APT::Sandbox::User=root)

log() { printf '[%s] %s\n' "$GI_TAG" "$*" >&2; }
die() { printf 'guest-images: %s: %s\n' "$GI_TAG" "$*" >&2; exit 1; }

_gi_on_err() {
	local rc=$1 line=$2 cmd=$3
	# Report once, from the top-level shell, not from every subshell.
	[ "$BASHPID" = "$$" ] || exit "$rc"
	printf 'guest-images: %s: command failed (exit %s) at line %s: %s\n' \
		"$GI_TAG" "$rc" "$line" "$cmd" >&2
	exit "$rc"
}
trap '_gi_on_err $? $LINENO "$BASH_COMMAND"' ERR

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			die "missing host tool '$c' (run scripts/install-deps)"
	done
}

# sha256 of the given files' names and contents (order as given) plus any
# extra strings passed after "--"; prints the first 16 hex digits.
hash_inputs() {
	{
		while [ $# -gt 0 ] && [ "$1" != -- ]; do
			printf 'file %s\n' "$(basename "$1")"
			cat "$1"
			shift
		done
		[ $# -gt 0 ] && shift
		printf 'extra %s\n' "$@"
	} | sha256sum | cut -c1-16
}

# Serialise concurrent runs that share a cache entry: lock NAME.
# The lock is held until the script exits.
cache_lock() {
	mkdir -p "$GI_CACHE/locks"
	exec 9>"$GI_CACHE/locks/$1.lock"
	if ! flock -n 9; then
		log "waiting for another run holding the $1 lock"
		flock 9
	fi
}

# Run a command with its output in LOGFILE, printing a condensed progress
# line on stderr about every 30 s (how many compile/link steps so far and the
# last step). On failure print the log's tail and die.
#   run_logged LOGFILE LABEL CMD...
run_logged() {
	local logfile=$1 label=$2
	shift 2
	: >"$logfile"
	local start=$SECONDS
	"$@" >>"$logfile" 2>&1 &
	local pid=$!
	local rc=0 last=$SECONDS
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		if [ $((SECONDS - last)) -ge 30 ]; then
			last=$SECONDS
			local steps cur
			steps=$(grep -cE '^  (CC|AS|LD|AR|HOSTCC|OBJCOPY|GEN|CPP|LDS|MKELF|UPD|SYSMAP)' "$logfile" || true)
			cur=$(grep -E '^  [A-Z]' "$logfile" | tail -n1 | sed 's/^ *//' || true)
			log "$label: $((SECONDS - start))s, $steps steps, at: ${cur:-...}"
		fi
	done
	wait "$pid" || rc=$?
	if [ "$rc" -ne 0 ]; then
		printf '[%s] ---- last 40 lines of %s ----\n' "$GI_TAG" "$logfile" >&2
		tail -n 40 "$logfile" >&2
		die "$label failed (exit $rc); full log: $logfile"
	fi
	log "$label: done in $((SECONDS - start))s"
}

# ---------------------------------------------------------------------------
# Debian packages through the system apt (bookworm, as configured on the host)

# A fingerprint of the system apt's package lists and sources: resolutions
# made with the system apt stay valid while it is unchanged. (apt-cache takes
# about a second per call on hosts whose apt keeps no pkgcache.bin.)
system_apt_stamp() {
	local lists=/var/lib/apt/lists/
	eval "$(apt-config shell lists Dir::State::Lists/d 2>/dev/null)" || true
	{
		dpkg --print-foreign-architectures
		stat -c '%n %s %Y' "$lists"*Packages* /etc/apt/sources.list \
			/etc/apt/sources.list.d/* /etc/apt/preferences.d/* 2>/dev/null || true
	} | sha256sum | cut -c1-16
}

# memo_get NAME STAMP: print the value memo_put stored under NAME if it was
# stored with the same STAMP; fail otherwise.
memo_get() {
	local f="$GI_CACHE/resolved/$1"
	[ -f "$f" ] && [ "$(head -n1 "$f")" = "$2" ] || return 1
	tail -n +2 "$f"
}
# memo_put NAME STAMP VALUE
memo_put() {
	mkdir -p "$GI_CACHE/resolved"
	printf '%s\n%s\n' "$2" "$3" >"$GI_CACHE/resolved/$1.tmp"
	mv "$GI_CACHE/resolved/$1.tmp" "$GI_CACHE/resolved/$1"
}

# Candidate version of PKG (e.g. busybox-static:arm64) in the system apt.
system_candidate() {
	local v
	v=$(apt-cache policy "$1" 2>/dev/null | awk '/^  Candidate:/ { print $2; exit }')
	if [ -z "$v" ] || [ "$v" = "(none)" ]; then
		die "apt knows no '$1' (run 'apt-get update' / scripts/install-deps)"
	fi
	printf '%s\n' "$v"
}

# Versions of PKG offered by the system apt from the given suites only
# (e.g. bookworm bookworm-security), one per line, newest first.
system_versions_from() {
	local pkg=$1
	shift
	apt-cache policy "$pkg" 2>/dev/null | awk -v suites=" $* " '
		/^  Version table:/ { intable = 1; next }
		!intable { next }
		/^ (\*\*\*|   ) [^ ]/ { ver = $0; sub(/^ [* ]+/, "", ver); sub(/ .*/, "", ver); next }
		/^        [0-9]+ / {
			# "500 <archive URI> bookworm-security/main arm64 Packages"
			split($3, a, "/")
			if (index(suites, " " a[1] " ") && !(ver in seen)) { seen[ver] = 1; print ver }
		}'
}

# The .deb file name apt gives PKG (without :arch) at VERSION for ARCH.
deb_name() {
	local pkg=${1%%:*} ver=$2 arch=$3
	printf '%s_%s_%s.deb\n' "$pkg" "${ver//:/%3a}" "$arch"
}

# _download_to DIR FILE CMD...: run the apt download CMD in a scratch
# directory under DIR and move the resulting FILE into place only when it is
# complete, so an interrupted download never leaves a truncated .deb behind.
_download_to() {
	local dir=$1 f=$2 scratch rc=0
	shift 2
	scratch=$(mktemp -d "$dir/.partial.XXXXXX")
	(cd "$scratch" && "$@" >&2) || rc=$?
	if [ "$rc" = 0 ] && [ -s "$scratch/${f##*/}" ]; then
		mv "$scratch/${f##*/}" "$f"
	fi
	rm -rf "$scratch"
	return "$rc"
}

# Download PKG=VERSION (PKG may carry :arch) with the system apt into the
# cache's debs/ directory unless it is there already; print the .deb path.
#   system_download PKG VERSION ARCH
system_download() {
	local pkg=$1 ver=$2 arch=$3 dir="$GI_CACHE/debs" f
	mkdir -p "$dir"
	f="$dir/$(deb_name "$pkg" "$ver" "$arch")"
	if [ ! -s "$f" ]; then
		log "downloading ${pkg%%:*} $ver ($arch) from the system's Debian archive"
		_download_to "$dir" "$f" apt-get -q "${GI_APT_SANDBOX[@]}" download "$pkg=$ver" ||
			die "apt-get download $pkg=$ver failed"
	fi
	[ -s "$f" ] || die "apt-get download did not produce $f"
	printf '%s\n' "$f"
}

# ---------------------------------------------------------------------------
# Isolated apt trees for suites the system does not (and must not) use,
# e.g. trixie-backports. Download only; nothing is ever installed.

# Print "URIS|SIGNED-BY" of the system stanza that carries the suite bookworm.
_system_archive_stanza() {
	[ -r "$GI_SYSTEM_SOURCES" ] ||
		die "no $GI_SYSTEM_SOURCES to take the Debian archive URIs from"
	awk '
		BEGIN { RS = ""; FS = "\n" }
		{
			uris = ""; sig = ""; suites = ""
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^URIs:/)      { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
				if ($i ~ /^Signed-By:/) { sig = $i; sub(/^Signed-By:[ \t]*/, "", sig) }
				if ($i ~ /^Suites:/)    { suites = $i; sub(/^Suites:/, "", suites); suites = " " suites " "; gsub(/\t/, " ", suites) }
			}
			if (suites ~ / bookworm / && uris != "") { print uris "|" sig; exit }
		}' "$GI_SYSTEM_SOURCES"
}

# Directory of the isolated apt tree for SUITE/ARCH.
apt_tree() { printf '%s/apt/%s_%s\n' "$GI_CACHE" "$1" "$2"; }

# apt-get / apt-cache inside the tree of SUITE ARCH: iapt SUITE ARCH TOOL ARGS...
iapt() {
	local suite=$1 arch=$2 tool=$3 t
	shift 3
	t=$(apt_tree "$suite" "$arch")
	"$tool" \
		-o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$t/etc/sources.list.d" \
		-o Dir::Etc::Preferences=/dev/null \
		-o Dir::Etc::PreferencesParts="$t/etc/preferences.d" \
		-o Dir::State="$t/state" \
		-o Dir::State::status="$t/state/status" \
		-o Dir::Cache="$t/cache" \
		-o APT::Architecture="$arch" \
		-o APT::Architectures="$arch" \
		"${GI_APT_SANDBOX[@]}" \
		"$@"
}

# Create (or refresh when older than GI_APT_MAX_AGE) the tree for SUITE ARCH.
apt_tree_update() {
	local suite=$1 arch=$2 t stanza uris sig stamp
	t=$(apt_tree "$suite" "$arch")
	mkdir -p "$t/etc/sources.list.d" "$t/etc/preferences.d" \
		"$t/state/lists/partial" "$t/cache/archives/partial"
	[ -e "$t/state/status" ] || : >"$t/state/status"
	stanza=$(_system_archive_stanza)
	[ -n "$stanza" ] || die "no stanza with suite bookworm in $GI_SYSTEM_SOURCES"
	uris=${stanza%%|*}
	sig=${stanza#*|}
	{
		printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nArchitectures: %s\n' \
			"$uris" "$suite" "$arch"
		[ -z "$sig" ] || printf 'Signed-By: %s\n' "$sig"
	} >"$t/etc/sources.list.d/nestbox-$suite.sources.new"
	if ! cmp -s "$t/etc/sources.list.d/nestbox-$suite.sources.new" \
		"$t/etc/sources.list.d/nestbox-$suite.sources" 2>/dev/null; then
		mv "$t/etc/sources.list.d/nestbox-$suite.sources.new" \
			"$t/etc/sources.list.d/nestbox-$suite.sources"
		rm -f "$t/updated"
	else
		rm -f "$t/etc/sources.list.d/nestbox-$suite.sources.new"
	fi
	stamp="$t/updated"
	if [ -e "$stamp" ] && [ $(($(date +%s) - $(stat -c %Y "$stamp"))) -lt "$GI_APT_MAX_AGE" ]; then
		return 0
	fi
	log "updating the package lists of $suite ($arch) in $t"
	if iapt "$suite" "$arch" apt-get -q update >"$t/update.log" 2>&1; then
		touch "$stamp"
	elif [ -e "$stamp" ]; then
		log "warning: apt-get update for $suite failed, using the older lists (see $t/update.log)"
	else
		tail -n 15 "$t/update.log" >&2
		die "apt-get update for $suite ($arch) failed; log: $t/update.log"
	fi
}

# Newest version of PKG in the isolated tree of SUITE ARCH (empty if none).
apt_version() {
	local suite=$1 arch=$2 pkg=$3
	iapt "$suite" "$arch" apt-cache policy "$pkg" 2>/dev/null |
		awk '/^  Candidate:/ { if ($2 != "(none)") print $2; exit }'
}

# Download PKGs (PKG or PKG=VERSION) from SUITE for ARCH into the cache's
# debs/ directory (skipping files already there); print the .deb paths.
#   fetch_debs SUITE ARCH PKG...
fetch_debs() {
	local suite=$1 arch=$2 dir="$GI_CACHE/debs" p pkg ver debarch f
	shift 2
	apt_tree_update "$suite" "$arch"
	mkdir -p "$dir"
	for p in "$@"; do
		pkg=${p%%=*}
		if [ "$pkg" != "$p" ]; then ver=${p#*=}; else ver=$(apt_version "$suite" "$arch" "$pkg"); fi
		[ -n "$ver" ] || die "package '$pkg' not found in $suite ($arch)"
		debarch=$(iapt "$suite" "$arch" apt-cache show "$pkg=$ver" 2>/dev/null |
			awk '/^Architecture:/ { print $2; exit }')
		[ -n "$debarch" ] || die "no record for $pkg=$ver in $suite"
		f="$dir/$(deb_name "$pkg" "$ver" "$debarch")"
		if [ ! -s "$f" ]; then
			log "downloading $pkg $ver from $suite"
			_download_to "$dir" "$f" iapt "$suite" "$arch" apt-get -q download "$pkg=$ver" ||
				die "apt-get download $pkg=$ver from $suite failed"
		fi
		[ -s "$f" ] || die "apt-get download did not produce $f"
		printf '%s\n' "$f"
	done
}

# Atomically publish directory TMP as DEST (replacing an older DEST).
publish_dir() {
	local tmp=$1 dest=$2
	rm -rf "$dest.old"
	[ ! -e "$dest" ] || mv "$dest" "$dest.old"
	mv "$tmp" "$dest"
	rm -rf "$dest.old"
}

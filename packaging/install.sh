#!/bin/sh
# customcd zero-install: fetch the standalone build for this machine, verify it, cache it, and print
# the absolute path of its `customcd` executable on stdout (one line, nothing else).
#
#   customcd="$(CUSTOMCD_DOWNLOAD_URL=https://downloads.example.com/customcd/0.1.0 sh install.sh)"
#   if [ -n "$customcd" ]; then "$customcd" send; fi
#
# Environment:
#   CUSTOMCD_DOWNLOAD_URL    required: the folder URL that holds customcd-<os>-<arch>.tar.gz and
#                            its .sha256 (your mirror or release page). http(s)://, or file:// with
#                            curl. user:password@ in it is used and never printed.
#   CUSTOMCD_CACHE_DIR       where builds are unpacked, one folder per checksum
#                            (default ${XDG_CACHE_HOME:-$HOME/.cache}/customcd)
#   CUSTOMCD_SHA256          optional: the archive's expected sha256, pinned in your pipeline, so a
#                            changed mirror is refused even when its .sha256 matches its archive
#   CUSTOMCD_INSTALL_STRICT  1: exit 1 on failure (default: exit 0, so the deploy job goes on)
#
# Every run downloads the small .sha256 file; the archive is downloaded only when no verified
# build with that checksum is in the cache. On any failure (no URL, unreachable server, HTTP error,
# wrong checksum, unpacking) it prints one line on stderr starting with "customcd:", prints nothing
# on stdout and exits 0 (1 with CUSTOMCD_INSTALL_STRICT=1). A build whose checksum does not match is
# never unpacked; a build that does not start here (`customcd --version`) is never cached. Needs:
# curl or wget, sha256sum or shasum or openssl, tar with gzip, mktemp.
#
#   sh install.sh --platform   prints this machine's <os>-<arch> (linux-x86_64, darwin-aarch64, ...)
#   sh install.sh --help       prints this text

# stdout is kept on fd 3 for the one line of the result; everything else goes to stderr
exec 3>&1 1>&2

strict=0
case ${CUSTOMCD_INSTALL_STRICT:-} in 1 | true | yes | on) strict=1 ;; esac

work=""
secret_userinfo=""
secret_password=""
secret_query=""

cleanup() {
  if [ -n "$work" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# mask TEXT: TEXT with URL credentials (user:password@), query strings and the known secrets hidden
mask() {
  printf '%s\n' "$1" |
    sed -e 's|://[^/@?[:space:]]*@|://***@|g' -e 's|?[^[:space:]]*|?***|g' |
    SECRET1=$secret_userinfo SECRET2=$secret_password SECRET3=$secret_query awk '
      function hide(s,   i) {
        if (s == "") return
        while ((i = index($0, s)) > 0) $0 = substr($0, 1, i - 1) "***" substr($0, i + length(s))
      }
      { hide(ENVIRON["SECRET1"]); hide(ENVIRON["SECRET3"]); hide(ENVIRON["SECRET2"]); print }'
}

say() {
  mask "customcd: $*"
}

# fail REASON: the one loud line, then exit 0 (or 1 when strict) with nothing on stdout
fail() {
  if [ "$strict" = 1 ]; then
    then_what="exiting 1 (CUSTOMCD_INSTALL_STRICT=1)"
  else
    then_what="exiting 0 so the job goes on; set CUSTOMCD_INSTALL_STRICT=1 to fail instead"
  fi
  say "ERROR: customcd was NOT installed, this job reports nothing: $1; $then_what"
  exit "$strict"
}

platform() {
  case $(uname -s 2>/dev/null) in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT) os=windows ;;
    *) fail "unsupported operating system '$(uname -s 2>/dev/null)' (builds exist for Linux, macOS and Windows)" ;;
  esac
  case $(uname -m 2>/dev/null) in
    x86_64 | amd64 | AMD64) arch=x86_64 ;;
    aarch64 | arm64 | ARM64) arch=aarch64 ;;
    *) fail "unsupported processor '$(uname -m 2>/dev/null)' (builds exist for x86_64 and aarch64)" ;;
  esac
}

# fetch URL FILE: download URL to FILE; on failure print why (masked) and return non-zero
fetch() {
  errors="$work/fetch.err"
  if command -v curl >/dev/null 2>&1; then
    # the URL goes through curl's config on stdin, so its credentials never show in `ps`
    printf 'url = "%s"\n' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')" |
      curl --config - --fail --silent --show-error --location --output "$2" \
        --connect-timeout 15 --speed-limit 1024 --speed-time 30 \
        --retry 2 --retry-delay 1 --retry-max-time 60 2>"$errors"
    code=$?
    tool=curl
  elif command -v wget >/dev/null 2>&1; then
    wget -q -t 3 -T 30 -O "$2" "$1" 2>"$errors"
    code=$?
    tool=wget
  else
    fail "neither curl nor wget is installed"
  fi
  if [ "$code" != 0 ]; then
    detail=$(tail -n 1 "$errors" 2>/dev/null)
    why="${detail:-$tool exited $code}"
    download_error="$why"
    return 1
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | awk '{ sub(/^\\/, "", $1); print tolower($1) }'
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | awk '{ print tolower($1) }'
  else
    openssl dgst -sha256 "$1" | awk '{ print tolower($NF) }'
  fi
}

has_sha256_tool() {
  command -v sha256sum >/dev/null 2>&1 || command -v shasum >/dev/null 2>&1 ||
    command -v openssl >/dev/null 2>&1
}

is_sha256() {
  case $1 in *[!0-9a-f]* | "") return 1 ;; esac
  [ "${#1}" -eq 64 ]
}

# resolve the folder URL: split off credentials (for masking) and a query string (kept after the
# file name, e.g. for a signed or token URL)
parse_url() {
  base=${CUSTOMCD_DOWNLOAD_URL:-}
  case $base in
    *://*) ;;
    "") fail "CUSTOMCD_DOWNLOAD_URL is not set: give the folder URL that holds customcd-$os-$arch.tar.gz and its .sha256 (your mirror or release page)" ;;
    *) fail "CUSTOMCD_DOWNLOAD_URL '$base' is not a URL (expected https://host/folder)" ;;
  esac
  query=""
  case $base in
    *\?*)
      query="?${base#*\?}"
      base=${base%%\?*}
      secret_query=${query#\?}
      ;;
  esac
  rest=${base#*://}
  authority=${rest%%/*}
  case $authority in
    *@*)
      secret_userinfo=${authority%@*}
      case $secret_userinfo in *:*) secret_password=${secret_userinfo#*:} ;; esac
      ;;
  esac
  host=${authority##*@}
  case $base in
    http://*)
      case $host in
        127.* | localhost | localhost:* | \[::1\]*) ;;
        *) say "warning: $base is plain http://: the download is not protected against tampering; use https:// (or pin CUSTOMCD_SHA256)" ;;
      esac
      ;;
  esac
  while :; do
    case $base in */) base=${base%/} ;; *) break ;; esac
  done
}

cache_folder() {
  if [ -n "${CUSTOMCD_CACHE_DIR:-}" ]; then
    cache=$CUSTOMCD_CACHE_DIR
  elif [ -n "${XDG_CACHE_HOME:-}" ]; then
    cache=$XDG_CACHE_HOME/customcd
  elif [ -n "${HOME:-}" ]; then
    cache=$HOME/.cache/customcd
  else
    cache=${TMPDIR:-/tmp}/customcd-cache-$(id -u 2>/dev/null || echo user)
  fi
  mkdir -p "$cache" 2>/dev/null || fail "cannot create the cache folder $cache (set CUSTOMCD_CACHE_DIR)"
  cache=$(cd "$cache" && pwd -P) || fail "cannot enter the cache folder $cache"
  work=$(mktemp -d "$cache/.install.XXXXXX" 2>/dev/null) ||
    fail "cannot write in the cache folder $cache (set CUSTOMCD_CACHE_DIR)"
}

# only_customcd ARCHIVE: every member is customcd/... and none climbs out with ".."
only_customcd() {
  tar -tzf "$1" >"$work/members" 2>"$work/tar.err" || return 1
  [ -s "$work/members" ] || return 1
  awk '
    { sub(/^\.\//, "") }
    $0 != "customcd" && $0 != "customcd/" && index($0, "customcd/") != 1 { bad = 1 }
    /(^|\/)\.\.(\/|$)/ { bad = 1 }
    END { exit bad }' "$work/members"
}

install() {
  name="customcd-$os-$arch.tar.gz"
  exe=customcd
  if [ "$os" = windows ]; then exe=customcd.exe; fi
  has_sha256_tool || fail "no sha256 tool found (need sha256sum, shasum or openssl)"
  command -v tar >/dev/null 2>&1 || fail "tar is not installed"

  fetch "$base/$name.sha256$query" "$work/$name.sha256" ||
    fail "cannot download $base/$name.sha256: $download_error"
  expected=$(awk 'NR == 1 { print tolower($1); exit }' "$work/$name.sha256")
  listed=$(awk 'NR == 1 { sub(/^\*/, "", $2); print $2; exit }' "$work/$name.sha256")
  is_sha256 "$expected" ||
    fail "$base/$name.sha256 is not a sha256 checksum file (expected '<64 hex digits>  $name')"
  if [ -n "$listed" ] && [ "$listed" != "$name" ]; then
    fail "$base/$name.sha256 is the checksum of '$listed', not of $name"
  fi
  if [ -n "${CUSTOMCD_SHA256:-}" ]; then
    pinned=$(printf '%s' "$CUSTOMCD_SHA256" | tr 'A-F' 'a-f')
    if [ "$pinned" != "$expected" ]; then
      fail "$base/$name.sha256 says $expected but CUSTOMCD_SHA256 pins $pinned: refusing a build that is not the pinned one"
    fi
  fi

  target="$cache/$expected"
  if [ -f "$target/.customcd-sha256" ] && [ -f "$target/customcd/$exe" ]; then
    printf '%s\n' "$target/customcd/$exe" >&3
    exit 0
  fi
  if [ -e "$target" ]; then
    say "the cached build in $target is incomplete; installing it again"
    rm -rf "$target"
  fi

  say "downloading $name from $base/"
  fetch "$base/$name$query" "$work/$name" || fail "cannot download $base/$name: $download_error"
  actual=$(sha256_of "$work/$name")
  if [ "$actual" != "$expected" ]; then
    rm -f "$work/$name"
    fail "checksum mismatch for $name from $base/: got sha256 $actual, the .sha256 file says $expected; the archive was deleted, not unpacked"
  fi
  only_customcd "$work/$name" ||
    fail "$name is not a customcd build (every entry must be under customcd/): $(tail -n 1 "$work/tar.err" 2>/dev/null)"
  if ! { mkdir "$work/tree" && tar -xzf "$work/$name" -C "$work/tree" 2>"$work/tar.err"; }; then
    fail "cannot unpack $name into $cache: $(tail -n 1 "$work/tar.err" 2>/dev/null)"
  fi
  if [ ! -f "$work/tree/customcd/$exe" ] || { [ "$os" != windows ] && [ ! -x "$work/tree/customcd/$exe" ]; }; then
    fail "$name holds no executable customcd/$exe"
  fi
  # a build for another C library (musl, an older glibc) unpacks fine but cannot start: say so now
  if ! "$work/tree/customcd/$exe" --version >"$work/run.out" 2>&1; then
    fail "the build does not run on this machine ($(tail -n 1 "$work/run.out")); the Linux build needs glibc (not musl/Alpine) as new as the build machine's: use pip there"
  fi
  printf '%s  %s\n' "$expected" "$name" >"$work/tree/.customcd-sha256"
  # a rename is atomic: another job installing the same build at the same time either finds the
  # whole tree or none; when it won the race, ours is dropped
  if [ ! -e "$target" ]; then
    mv "$work/tree" "$target" 2>/dev/null || true
  fi
  if [ ! -f "$target/.customcd-sha256" ] || [ ! -f "$target/customcd/$exe" ]; then
    fail "cannot move the unpacked build into $target"
  fi
  rm -rf "$target/tree"
  say "installed $target/customcd/$exe (sha256 $expected)"
  printf '%s\n' "$target/customcd/$exe" >&3
}

case ${1:-} in
  --platform)
    platform
    printf '%s-%s\n' "$os" "$arch" >&3
    exit 0
    ;;
  -h | --help)
    sed -n '2,/^$/{s/^# \{0,1\}//p;}' "$0" >&3
    exit 0
    ;;
  "") ;;
  *) fail "unknown argument '$1' (usage: sh install.sh [--platform | --help])" ;;
esac

platform
parse_url
cache_folder
install

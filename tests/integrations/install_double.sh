#!/bin/sh
# Test double of packaging/install.sh, with its interface, used until the real one is on this
# branch (tests/integrations/conftest.py and packaging/ci/embed.py take the real one when it
# exists). Reads CUSTOMCD_DOWNLOAD_URL, CUSTOMCD_CACHE_DIR, CUSTOMCD_INSTALL_STRICT; prints one
# stdout line, the executable's path; on failure one `customcd: ...` line on stderr, exit 0 (1
# when strict).
set -u

customcd_fail() {
  echo "customcd: cannot install customcd: $*" >&2
  case "${CUSTOMCD_INSTALL_STRICT:-0}" in 1 | true) exit 1 ;; esac
  exit 0
}

base=${CUSTOMCD_DOWNLOAD_URL:-}
[ -n "$base" ] || customcd_fail "CUSTOMCD_DOWNLOAD_URL is not set"
base=${base%/}
case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  MINGW* | MSYS* | CYGWIN*) os=windows ;;
  *) customcd_fail "no build for $(uname -s)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) customcd_fail "no build for $(uname -m)" ;;
esac
name=customcd-$os-$arch.tar.gz
exe=customcd/customcd
[ "$os" = windows ] && exe=customcd/customcd.exe
cache=${CUSTOMCD_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/customcd}

tmp=$(mktemp -d) || customcd_fail "no temporary folder"
trap 'rm -rf "$tmp"' EXIT
fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fs --connect-timeout 10 --max-time 300 -o "$2" "$1"
  else
    wget -q -T 10 -O "$2" "$1"
  fi
}
fetch "$base/$name.sha256" "$tmp/sum" || customcd_fail "could not download $base/$name.sha256"
want=$(cut -d ' ' -f 1 <"$tmp/sum")
dir=$cache/$want
if [ ! -x "$dir/$exe" ]; then
  fetch "$base/$name" "$tmp/$name" || customcd_fail "could not download $base/$name"
  got=$(sha256sum "$tmp/$name" 2>/dev/null || shasum -a 256 "$tmp/$name")
  [ "${got%% *}" = "$want" ] || customcd_fail "$name does not match its .sha256; refusing it"
  mkdir -p "$dir.tmp" && tar -xzf "$tmp/$name" -C "$dir.tmp" && rm -rf "$dir" && mv "$dir.tmp" "$dir" \
    || customcd_fail "could not unpack $name into $cache"
fi
echo "$dir/$exe"

# customcd report step (POSIX sh): install the standalone build, send this job's record, say
# what happened in one line. It never changes the job's result unless strict is asked for.
#
# The CI integrations (GitLab component, GitHub action, Azure template, Jenkins step) run this
# script; packaging/ci/embed.py puts it, with packaging/install.sh, into the files that cannot
# read a checkout. Every user value arrives in an environment variable, never in this text:
#
#   CUSTOMCD_END_TIME          the job's end, captured by the caller BEFORE this script runs
#   CUSTOMCD_URL_VARIABLE, CUSTOMCD_COMPANY_ID_VARIABLE, CUSTOMCD_TOKEN_VARIABLE
#                              names of the variables holding the URL, company id and token
#                              (default CUSTOMCD_URL, CUSTOMCD_COMPANY_ID, CUSTOMCD_TOKEN)
#   CUSTOMCD_DEFAULT_<NAME>    a value for CUSTOMCD_<NAME> when that variable is empty (NAME:
#                              SERVICE_ID, JOB_TYPE, OPTIONAL, STRICT, VERSION, DOWNLOAD_URL)
#   CUSTOMCD_VERSION           the release to install (default: latest)
#   CUSTOMCD_DOWNLOAD_URL      the folder holding customcd-<os>-<arch>.tar.gz and its .sha256
#   CUSTOMCD_COMMAND           run this instead of installing (split on spaces, e.g. `customcd`
#                              or `uvx --from customcd-gitlab customcd`)
#   CUSTOMCD_STRICT            1/true: exit with customcd's strict code (1: not installed)
#   CUSTOMCD_INSTALL_SH        path of install.sh (when not embedded)
#
# Outcome (GitHub step output `outcome`, Azure variable CUSTOMCD_OUTCOME): delivered, skipped,
# kept (in the outbox, re-sent later), rejected (by the server), invalid (no record could be
# built, or a configuration problem) or not-installed.

customcd_is_true() {
  case "$1" in 1 | [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss] | [Oo][Nn]) return 0 ;; esac
  return 1
}

# One clear line: the CI's annotation where it has one, else a plain (GitLab: yellow) line.
customcd_warn() {
  if [ "${GITHUB_ACTIONS:-}" = true ]; then
    printf '::warning title=customcd::%s\n' "$1"
  elif [ -n "${TF_BUILD:-}" ]; then
    printf '##vso[task.logissue type=warning]customcd: %s\n' "$1"
  elif [ -n "${GITLAB_CI:-}" ]; then
    printf '\033[0;33mcustomcd: WARNING: %s\033[0m\n' "$1"
  else
    printf 'customcd: WARNING: %s\n' "$1"
  fi
}

customcd_result() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf 'outcome=%s\nexit-code=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
  if [ -n "${TF_BUILD:-}" ]; then
    printf '##vso[task.setvariable variable=CUSTOMCD_OUTCOME]%s\n' "$1"
  fi
}

# CUSTOMCD_<NAME> from CUSTOMCD_DEFAULT_<NAME> when empty; the names are fixed words.
for customcd_name in SERVICE_ID JOB_TYPE OPTIONAL STRICT VERSION DOWNLOAD_URL; do
  eval "customcd_value=\${CUSTOMCD_$customcd_name:-}"
  eval "customcd_default=\${CUSTOMCD_DEFAULT_$customcd_name:-}"
  if [ -z "$customcd_value" ] && [ -n "$customcd_default" ]; then
    eval "CUSTOMCD_$customcd_name=\$customcd_default"
    eval "export CUSTOMCD_$customcd_name"
  fi
done

# The URL, company id and token may live in variables of other names.
customcd_broken=""
for customcd_pair in "URL:${CUSTOMCD_URL_VARIABLE:-}" "COMPANY_ID:${CUSTOMCD_COMPANY_ID_VARIABLE:-}" \
  "TOKEN:${CUSTOMCD_TOKEN_VARIABLE:-}"; do
  customcd_name=${customcd_pair%%:*}
  customcd_from=${customcd_pair#*:}
  case "$customcd_from" in
    "" | "CUSTOMCD_$customcd_name") continue ;;
    [0-9]* | *[!A-Za-z0-9_]*) customcd_broken="$customcd_broken $customcd_from" ;;
    *)
      eval "customcd_value=\${$customcd_from:-}"
      eval "CUSTOMCD_$customcd_name=\$customcd_value"
      eval "export CUSTOMCD_$customcd_name"
      ;;
  esac
done

customcd_strict=0
if customcd_is_true "${CUSTOMCD_STRICT:-}"; then customcd_strict=1; fi

if [ -n "$customcd_broken" ]; then
  customcd_warn "no record sent: not a variable name:$customcd_broken (give the NAME of the variable holding the value)"
  customcd_result invalid 64
  [ "$customcd_strict" = 1 ] && exit 64
  exit 0
fi

if [ -n "${CUSTOMCD_COMMAND:-}" ]; then
  set -f
  # shellcheck disable=SC2086 # a command line: split on spaces, no globbing
  set -- $CUSTOMCD_COMMAND
  set +f
else
  if [ -z "${CUSTOMCD_DOWNLOAD_URL:-}" ]; then
    case "${CUSTOMCD_VERSION:-latest}" in
      latest) CUSTOMCD_DOWNLOAD_URL=https://github.com/customcd/customcd/releases/latest/download ;;
      *) CUSTOMCD_DOWNLOAD_URL=https://github.com/customcd/customcd/releases/download/v${CUSTOMCD_VERSION#v} ;;
    esac
  fi
  export CUSTOMCD_DOWNLOAD_URL
  # credentials and query strings in the URL never reach the job log
  shown_url=$(printf '%s\n' "$CUSTOMCD_DOWNLOAD_URL" | sed -e 's|://[^/@?[:space:]]*@|://***@|' -e 's|?.*|?***|')
  if [ -n "${GITLAB_CI:-}" ]; then
    printf '\033[0Ksection_start:%s:customcd_install[collapsed=true]\r\033[0Kcustomcd: installing from %s\n' \
      "$(date +%s)" "$shown_url"
  else
    printf 'customcd: installing from %s\n' "$shown_url"
  fi
  # >>> install
  customcd_bin=$(CUSTOMCD_INSTALL_STRICT=0 sh "${CUSTOMCD_INSTALL_SH:?path of install.sh}" </dev/null) \
    || customcd_bin=""
  # <<< install
  if [ -n "${GITLAB_CI:-}" ]; then
    printf '\033[0Ksection_end:%s:customcd_install\r\033[0K\n' "$(date +%s)"
  fi
  if [ -z "$customcd_bin" ] || [ ! -x "$customcd_bin" ]; then
    customcd_warn "no record sent: customcd could not be installed from $shown_url (see the line above); this job keeps its own result"
    customcd_result not-installed 1
    [ "$customcd_strict" = 1 ] && exit 1
    exit 0
  fi
  set -- "$customcd_bin"
fi

# Safe under `set -e` (GitLab's and Jenkins' shells). Strict exit codes tell the outcome; the job's own result is decided below.
customcd_log=${TMPDIR:-/tmp}/customcd-report.$$.log
customcd_code=0
CUSTOMCD_STRICT=1 "$@" send 2>"$customcd_log" || customcd_code=$?
cat "$customcd_log" >&2
case "$customcd_code" in
  0)
    if grep -q '^customcd: no record sent' "$customcd_log"; then
      customcd_outcome=skipped
    else
      customcd_outcome=delivered
    fi
    ;;
  75) customcd_outcome=kept ;;
  77) customcd_outcome=rejected ;;
  65)
    if grep -q 'REJECTED by the server' "$customcd_log"; then
      customcd_outcome=rejected
    else
      customcd_outcome=invalid
    fi
    ;;
  78)
    if grep -q 'kept in the outbox' "$customcd_log"; then
      customcd_outcome=kept
    else
      customcd_outcome=invalid
    fi
    ;;
  *) customcd_outcome=invalid ;;
esac
rm -f "$customcd_log"
customcd_result "$customcd_outcome" "$customcd_code"
if [ "$customcd_outcome" = invalid ]; then
  customcd_warn "no record sent: the record could not be built (exit $customcd_code; see the lines above); this job keeps its own result"
fi
if [ "$customcd_strict" = 1 ]; then exit "$customcd_code"; fi
exit 0

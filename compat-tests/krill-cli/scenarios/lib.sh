# Shared by the krill-cli scenarios (sourced): `krill ARGS...` runs bin/krill against BOOTSTRAP.
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/assert.sh"
krill_bin="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/bin/krill"
krill() {
  "$krill_bin" "$@" --bootstrap-server "$BOOTSTRAP"
}
# expect_status N CMD...: runs CMD, fails the scenario unless it exits with N.
expect_status() {
  local want=$1 rc=0
  shift
  "$@" >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq "$want" ] || fail "$*: exit status $rc, expected $want"
}

# Assertions for the shell scenarios (sourced). Each prints a one-line reason and exits 1.
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# assert_contains HAYSTACK NEEDLE WHAT
assert_contains() {
  case "$1" in
  *"$2"*) ;;
  *) fail "$3: expected output to contain '$2', got: $(printf '%s' "$1" | tr '\n' '|' | cut -c1-300)" ;;
  esac
}

# assert_not_contains HAYSTACK NEEDLE WHAT
assert_not_contains() {
  case "$1" in
  *"$2"*) fail "$3: expected output not to contain '$2'" ;;
  *) ;;
  esac
}

# assert_eq ACTUAL EXPECTED WHAT
assert_eq() {
  [ "$1" = "$2" ] || fail "$3: expected '$2', got '$(printf '%s' "$1" | tr '\n' '|' | cut -c1-300)'"
}

# A topic name no other scenario (or earlier run against the same broker) uses.
unique_topic() {
  echo "compat-$1-$(date +%s%N | tail -c 9)-$RANDOM"
}

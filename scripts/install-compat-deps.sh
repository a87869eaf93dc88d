#!/usr/bin/env bash
# Installs everything the compatibility suite (compat-tests/) needs on a fresh Debian machine, and
# does nothing when it is already there, so the Makefile can run it before every compat run:
#   - Debian packages: kcat, python3-confluent-kafka, python3-kafka (librdkafka comes with them),
#     a JDK and Maven when they are missing;
#   - the Apache Kafka jars from Maven Central, resolved by compat-tests/java/pom.xml into one
#     classpath file per Kafka version under compat-tests/.cache/;
#   - @platformatic/kafka into compat-tests/platformatic/node_modules from its own lockfile, so the
#     root package stays lean (kafkajs is already a root devDependency).
# Needs root for apt-get (or sudo). Exits non-zero with a one-line reason on any failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# Kafka versions: the 4.x reference release (broker and tools), and the latest 3.9.x for the
# second run of the Java tools.
kafka_versions=("${KAFKA_VERSION:-4.4.0}" "${KAFKA_LEGACY_VERSION:-3.9.2}")

die() {
  echo "install-compat-deps: $*" >&2
  exit 1
}

log() {
  echo "install-compat-deps: $*" >&2
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# --- Debian packages -----------------------------------------------------------------------------
missing=()
dpkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}
for pkg in kcat python3-confluent-kafka python3-kafka; do
  dpkg_installed "$pkg" || missing+=("$pkg")
done
# Kafka 4.x brokers and tools need Java 17 or later.
java_major=0
if command -v java >/dev/null 2>&1; then
  java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  java_major=${java_major%%.*}
fi
# The Java consumer scenarios run through the single-file source launcher, which needs javac.
if [ "${java_major:-0}" -lt 17 ] || ! command -v javac >/dev/null 2>&1; then
  missing+=("openjdk-17-jdk-headless")
fi
command -v mvn >/dev/null 2>&1 || missing+=("maven")
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: ${missing[*]}"
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null || die "apt-get install failed for: ${missing[*]}"
fi
# The Python clients are Debian packages, so they are importable by the system interpreter only
# (a pyenv or venv python3 earlier on PATH would not see them); the scenarios use /usr/bin/python3.
/usr/bin/python3 -c "import confluent_kafka, kafka" 2>/dev/null ||
  die "/usr/bin/python3 cannot import confluent_kafka and kafka after installing the Debian packages"
command -v kcat >/dev/null 2>&1 || die "kcat is not on PATH after installing it"

# --- Apache Kafka jars from Maven Central --------------------------------------------------------
for version in "${kafka_versions[@]}"; do
  "$root/scripts/resolve-kafka.sh" "$version" >/dev/null || die "could not resolve Apache Kafka $version"
done

# --- Node clients ----------------------------------------------------------------------------------
node_bin=$("$root/scripts/ensure-node.sh") || die "no Node.js >= 22 available"
export PATH="$node_bin:$PATH"
plat="$root/compat-tests/platformatic"
stamp="$plat/node_modules/.install-stamp"
if [ ! -f "$stamp" ] || [ "$plat/package-lock.json" -nt "$stamp" ]; then
  log "installing @platformatic/kafka into compat-tests/platformatic"
  (cd "$plat" && npm ci --no-audit --no-fund --silent) || die "npm ci failed in compat-tests/platformatic"
  touch "$stamp"
fi
[ -d "$root/node_modules/kafkajs" ] || die "kafkajs is missing from the root node_modules; run 'make install' first"

log "ready (Kafka ${kafka_versions[*]}, $(kcat -V 2>/dev/null | sed -n 's/.*librdkafka \([^ ]*\).*/librdkafka \1/p' | head -1))"

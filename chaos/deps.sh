#!/usr/bin/env bash
# Installs what chaos runs need beyond `make deps` (compat-tests' clients and JDK), and does nothing
# when it is already there:
#   - the Apache Kafka broker jars (default 4.4.0) from Maven Central, resolved by chaos/java/pom.xml
#     into chaos/.cache/kafka-<version>.classpath;
#   - iptables (Debian package), for partitions and packet loss inside network namespaces.
# Needs root for apt-get. Exits non-zero with a one-line reason on failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/chaos/.cache"
version=${KAFKA_VERSION:-4.4.0}
die() {
  echo "chaos/deps.sh: $*" >&2
  exit 1
}

mkdir -p "$cache"
out="$cache/kafka-$version.classpath"
pom="$root/chaos/java/pom.xml"
fresh=0
if [ -s "$out" ] && [ "$out" -nt "$pom" ]; then
  fresh=1
  IFS=':' read -r -a jars <<<"$(cat "$out")"
  for jar in "${jars[@]}"; do [ -f "$jar" ] || fresh=0; done
fi
if [ "$fresh" -eq 0 ]; then
  command -v mvn >/dev/null 2>&1 || die "mvn not found; run 'make deps' first"
  echo "chaos/deps.sh: resolving Apache Kafka $version (broker) from Maven Central" >&2
  mvn -B -q -f "$pom" "-Dkafka.version=$version" dependency:build-classpath -Dmdep.includeScope=runtime \
    "-Dmdep.outputFile=$out.tmp" >"$cache/mvn-$version.log" 2>&1 ||
    die "Maven could not resolve kafka_2.13 $version (log: $cache/mvn-$version.log)"
  [ -s "$out.tmp" ] || die "Maven wrote an empty classpath"
  mv "$out.tmp" "$out"
fi

if ! command -v iptables >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iptables >/dev/null ||
      die "apt-get install iptables failed"
  else
    echo "chaos/deps.sh: iptables is missing (needed only for --net netns)" >&2
  fi
fi
echo "chaos/deps.sh: ready (Kafka $version classpath: $out)" >&2

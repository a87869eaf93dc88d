#!/usr/bin/env bash
# Resolves Apache Kafka's jars for one version from Maven Central through compat-tests/java/pom.xml
# (mvn dependency:build-classpath) and prints the path of the classpath file it writes,
# compat-tests/.cache/kafka-<version>.classpath. Does nothing when that file is newer than the pom
# and every jar it names is still in the local Maven repository. Used by install-compat-deps.sh
# (the reference broker and tools) and by tools/codegen (the message specs inside the jars).
#   scripts/resolve-kafka.sh <version>
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/compat-tests/.cache"
pom="$root/compat-tests/java/pom.xml"
version=${1:?usage: scripts/resolve-kafka.sh <kafka version>}

die() {
  echo "resolve-kafka: $*" >&2
  exit 1
}

command -v mvn >/dev/null 2>&1 || die "mvn not found; install Maven and a JDK (make deps does)"
mkdir -p "$cache"
out="$cache/kafka-$version.classpath"
if [ -s "$out" ] && [ "$out" -nt "$pom" ]; then
  ok=1
  IFS=':' read -r -a jars <<<"$(cat "$out")"
  for jar in "${jars[@]}"; do
    [ -f "$jar" ] || ok=0
  done
  if [ "$ok" -eq 1 ]; then
    echo "$out"
    exit 0
  fi
fi
echo "resolve-kafka: resolving Apache Kafka $version from Maven Central" >&2
extra=()
case "$version" in
3.*) extra+=("-Dlegacy.logging") ;;
esac
tmp="$out.tmp.$$"
rm -f "$tmp"
if ! mvn -B -q -f "$pom" "-Dkafka.version=$version" "${extra[@]}" dependency:build-classpath \
  -Dmdep.includeScope=runtime "-Dmdep.outputFile=$tmp" >"$cache/mvn-$version.log" 2>&1; then
  tail -n 20 "$cache/mvn-$version.log" >&2
  rm -f "$tmp"
  die "Maven could not resolve org.apache.kafka:kafka_2.13 and kafka-tools $version (log: $cache/mvn-$version.log)"
fi
[ -s "$tmp" ] || die "Maven wrote an empty classpath for Kafka $version"
mv "$tmp" "$out"
echo "$out"

#!/usr/bin/env bash
# Writes the Java client's golden batches into test/protocol/golden/java (or $1).
# Needs a JDK 17+ and Maven (kafka-clients comes from Maven Central).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../../test/protocol/golden/java}"
cp_file="$(mktemp)"
trap 'rm -f "$cp_file"' EXIT
mvn -q -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
# Java 11+ runs a single source file directly.
java -cp "$(cat "$cp_file")" "$here/CaptureBatches.java" "$out"

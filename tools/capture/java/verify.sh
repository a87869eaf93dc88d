#!/usr/bin/env bash
# Checks that the Java client (kafka-clients 4.4.0) decodes the batches Krill builds with every
# codec: CRC, decompression, records and headers equal to GOLDEN_RECORDS. Needs a JDK 17+ and Maven.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../../.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mvn -q -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$work/classpath" >/dev/null
(cd "$root" && tsx tools/capture/write-krill-batches.ts "$work/batches")
java -cp "$(cat "$work/classpath")" "$here/CaptureBatches.java" --verify "$work/batches"

#!/usr/bin/env bash
# TLS, SASL, ACL and client-quota scenarios (kcat, confluent-kafka, the Java tools) against a broker started with
# `broker.sh start ... --security tls`. Needs BOOTSTRAP, SSL_BOOTSTRAP, MTLS_BOOTSTRAP,
# SASL_BOOTSTRAP and CERTS_DIR; see ../lib/common.sh for the other inputs. run-security.sh starts both targets.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/common.sh"
: "${SSL_BOOTSTRAP:?}" "${MTLS_BOOTSTRAP:?}" "${SASL_BOOTSTRAP:?}" "${CERTS_DIR:?}"
export SSL_BOOTSTRAP MTLS_BOOTSTRAP SASL_BOOTSTRAP CERTS_DIR
for scenario in kcat-tls kcat-mtls confluent-python-mtls java-tools-tls scram-users-java java-sasl-plain java-sasl-reauth acls-java \
  quotas-configs-java quota-producer-rate quota-consumer-rate krill-cli-tls krill-cli-sasl krill-cli-acls; do
  run_scenario security "$scenario" bash "$here/scenarios/$scenario.sh"
done
finish_client

#!/usr/bin/env bash
# KAFKA_FOO_BAR=x becomes foo.bar=x in server.properties (as the official
# image does), the log directory is formatted once with CLUSTER_ID, then Kafka runs.
set -euo pipefail
config=/tmp/server.properties
: > "$config"
while IFS='=' read -r name value; do
  case $name in
    KAFKA_HEAP_OPTS | KAFKA_OPTS) ;;
    KAFKA_*) key=${name#KAFKA_}; key=${key,,}; printf '%s=%s\n' "${key//_/.}" "$value" >> "$config" ;;
  esac
done < <(env)
logs=$(sed -n 's/^log.dirs=//p' "$config")
[ -f "${logs:-/tmp/kraft-combined-logs}/meta.properties" ] ||
  java -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format --config "$config" --cluster-id "$CLUSTER_ID" --ignore-formatted
# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several options
exec java ${KAFKA_HEAP_OPTS:--Xmx1g} -cp '/opt/kafka/libs/*' kafka.Kafka "$config"

#!/usr/bin/env bash
# kafka-topics.sh of the Kafka distribution, on the image's jars.
# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several options
exec java ${KAFKA_HEAP_OPTS:--Xmx256m} -cp '/opt/kafka/libs/*' org.apache.kafka.tools.TopicCommand "$@"

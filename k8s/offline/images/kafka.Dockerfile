# Stands in for the official apache/kafka:4.1.1 on machines that cannot pull
# it: Debian's Java 17, the Kafka jars resolved from Maven Central (the local
# platform's cache), and the image's interface charts/shop uses: KAFKA_*
# variables turned into server.properties, CLUSTER_ID, /opt/kafka/bin/kafka-topics.sh.
ARG DEBIAN=shop-local/debian:bookworm
FROM ${DEBIAN}
RUN groupadd --gid 1000 appuser && useradd --uid 1000 --gid 1000 --no-create-home appuser \
 && apt-get update -q && apt-get install -y -q --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/*
COPY libs /opt/kafka/libs
COPY kafka-run.sh /etc/kafka/docker/run
COPY kafka-topics.sh /opt/kafka/bin/kafka-topics.sh
USER 1000:1000
CMD ["/etc/kafka/docker/run"]

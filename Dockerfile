# rota's container image: `docker build -t rota .`, then
#
#     docker run -p 8080:8080 -v rota-state:/var/lib/rota -v ./schedules:/etc/rota/schedules:ro rota
#
# Listens on 0.0.0.0:8080 inside the container, as a non-root user (uid 10001). The state (SQLite)
# is the volume /var/lib/rota; the schedules are the volume /etc/rota/schedules (the example ones
# until you mount yours). Settings come from ROTA_* variables (`docker run rota serve --help`) or a
# config file mounted at ROTA_CONFIG. Logs are JSON lines on stderr. The health check asks
# /healthz.

# The base images, replaceable (scripts/check-container.sh builds with local ones).
ARG RUST_IMAGE=docker.io/library/rust:1-bookworm
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
# The git revision for `rota --version` (the context has no .git): --build-arg ROTA_GIT_REV=...
ARG ROTA_GIT_REV=unknown
ENV ROTA_GIT_REV=${ROTA_GIT_REV}
COPY . .
RUN cargo build --release --locked --bin rota \
    && cp target/release/rota /usr/local/bin/rota \
    && /usr/local/bin/rota --version

FROM ${BASE_IMAGE}
# curl for the health check; CA certificates for https calendar URLs, SMTP and PostgreSQL TLS.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 rota \
    && useradd --system --uid 10001 --gid rota --home-dir /var/lib/rota --shell /usr/sbin/nologin rota \
    && mkdir -p /var/lib/rota /etc/rota \
    && chown rota:rota /var/lib/rota \
    && chmod 0700 /var/lib/rota
COPY --from=build /usr/local/bin/rota /usr/local/bin/rota
COPY schedules /etc/rota/schedules
ENV ROTA_BIND=0.0.0.0:8080 \
    ROTA_SCHEDULES=/etc/rota/schedules \
    ROTA_STATE=/var/lib/rota/rota.db \
    ROTA_LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/rota
VOLUME ["/var/lib/rota", "/etc/rota/schedules"]
EXPOSE 8080
# On the port of ROTA_BIND, whatever it is set to.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS --max-time 2 "http://127.0.0.1:${ROTA_BIND##*:}/healthz" >/dev/null || exit 1
# SIGTERM (docker stop) finishes requests in flight; SIGHUP reloads the schedules.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/rota"]
CMD ["serve"]

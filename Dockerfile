# hourglass: build in a Rust image, run in a slim Debian one as a non-root user.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY bench ./bench
RUN cargo build --release --locked --bin hourglass

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/hourglass hourglass \
    && mkdir -p /var/lib/hourglass \
    && chown hourglass /var/lib/hourglass
COPY --from=build /src/target/release/hourglass /usr/local/bin/hourglass
USER hourglass
WORKDIR /var/lib/hourglass
VOLUME ["/var/lib/hourglass"]
EXPOSE 8083
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8083/ready || exit 1
ENTRYPOINT ["hourglass"]
CMD ["serve", "--bind", "0.0.0.0", "--port", "8083", "--data-dir", "/var/lib/hourglass"]

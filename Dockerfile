# The tierline binary (every service is a subcommand).
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends cmake libssl-dev zlib1g-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p tierline && cp target/release/tierline /tierline

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 tierline
COPY --from=build /tierline /usr/local/bin/tierline
COPY deploy/policy/default.toml /etc/tierline/policy.toml
USER tierline
ENV TIERLINE_LOG_FORMAT=json
ENTRYPOINT ["/usr/local/bin/tierline"]

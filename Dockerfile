# relgql: build with the Rust toolchain, run on a small Debian image.
FROM rust:1.95-slim-bookworm AS build
# build.rs bundles GraphiQL from the npm packages in graphiql/package-lock.json.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin relgql

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data relgql \
 && mkdir /data && chown relgql /data
COPY --from=build /src/target/release/relgql /usr/local/bin/relgql
USER relgql
WORKDIR /data
ENV LISTEN_ADDR=0.0.0.0:8000
EXPOSE 8000
ENTRYPOINT ["relgql"]
CMD ["serve"]

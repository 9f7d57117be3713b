# The simulated TensorWasm of the demo stack (see docker-compose.yml).
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/simulator ./cmd/simulator

FROM debian:bookworm-slim
COPY --from=build /out/simulator /usr/local/bin/simulator
EXPOSE 9464
USER nobody
ENTRYPOINT ["simulator"]
CMD ["-listen", ":9464"]

# sessiond: a static binary on a distroless base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags="-s -w -X github.com/sessiond/sessiond/internal/buildinfo.Version=${VERSION} -X github.com/sessiond/sessiond/internal/buildinfo.Commit=${COMMIT}" \
    -o /out/sessiond ./cmd/sessiond

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sessiond /sessiond
EXPOSE 8080
ENTRYPOINT ["/sessiond"]
CMD ["run"]

# For users who build with Docker. Without a Docker engine, `make image`
# builds the same image (static binary on an empty base, user 65532,
# entrypoint /hookrun) with go-containerregistry.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY controllers/ controllers/
COPY webhookserver/ webhookserver/
COPY internal/ internal/
COPY main.go ./
RUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o /hookrun .

FROM gcr.io/distroless/static:nonroot
COPY --from=build /hookrun /hookrun
USER 65532:65532
ENTRYPOINT ["/hookrun"]

# hallwatch: multi-stage build on Debian 12 (bookworm), whose OpenCV 4.6 is
# what gocv v0.31 builds against.
FROM golang:1.26-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libopencv-dev \
      libavcodec-dev libavformat-dev libavutil-dev libswscale-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The person model (models/, Yolo-Fastest 1.1 body) is built into the
# binary: detector.kind auto runs it with no file to mount.
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/hallwatch ./cmd/hallwatch

FROM debian:bookworm-slim
# Exactly the shared libraries the binary links (readelf -d: NEEDED).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
      libavcodec59 libavutil57 libswscale6 \
      libopencv-core406 libopencv-imgproc406 libopencv-imgcodecs406 libopencv-dnn406 \
      libopencv-video406 libopencv-videoio406 libopencv-highgui406 libopencv-objdetect406 \
      libopencv-calib3d406 libopencv-features2d406 libopencv-photo406 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/hallwatch --create-home hallwatch
COPY --from=build /out/hallwatch /usr/local/bin/hallwatch
USER hallwatch
WORKDIR /var/lib/hallwatch
# Web UI / API / WHEP; WebRTC ICE over UDP and ICE-TCP (one port each).
EXPOSE 8080/tcp 8189/udp 8189/tcp
# The database and, beside it, each camera's analysis state
# (storage.state_dir) live on the volume: nothing is lost on restart.
ENV HALLWATCH_HTTP_LISTEN=0.0.0.0:8080 \
    HALLWATCH_STORAGE_PATH=/var/lib/hallwatch/hallwatch.db \
    HALLWATCH_STORAGE_STATE_DIR=/var/lib/hallwatch/hallwatch-state
VOLUME ["/var/lib/hallwatch"]
HEALTHCHECK --interval=30s --timeout=5s CMD ["hallwatch", "health", "--url", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["hallwatch"]
CMD ["serve", "--config", "/etc/hallwatch/hallwatch.yaml"]

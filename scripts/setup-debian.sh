#!/bin/sh
# Installs what hallwatch needs on Debian 12 (bookworm): OpenCV and FFmpeg
# development libraries for cgo; GStreamer's RTSP server, Chromium,
# PostgreSQL and the NATS server (their programs: the tests run their own
# throwaway servers) for the tests. Installs only what is missing; safe to
# run again.
set -eu

PKGS="build-essential pkg-config libopencv-dev libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
gstreamer1.0-plugins-ugly gstreamer1.0-libav gir1.2-gst-rtsp-server-1.0 gir1.2-gstreamer-1.0 python3-gi
chromium fonts-noto-cjk sqlite3 postgresql nats-server ca-certificates"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "setup: all packages present"
	exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "setup: installing$missing"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing

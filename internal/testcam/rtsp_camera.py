"""A test IP camera: GStreamer's RTSP server serving one stream on 127.0.0.1.

Started by testcam.go with /usr/bin/python3. It prints one line, "READY <port>"
once it listens (or "MISSING <what>" / "FAILED <why>" and exits), later "EOS"
when a file played once has been sent to its end. It exits when its stdin
closes, so it never outlives the test process.
"""

import argparse
import os
import sys
import threading

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import Gio, GLib, Gst, GstRtspServer
except (ImportError, ValueError) as err:
    print("MISSING python gi with Gst/GstRtspServer: %s" % err, flush=True)
    sys.exit(3)

# Before any class below is defined: subclassing RTSPMedia registers its
# signals, whose GstMessage argument type exists only after Gst.init.
Gst.init(None)


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--path", default="/stream")
    p.add_argument("--codec", choices=["h264", "h265"], default="h264")
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=240)
    p.add_argument("--fps", type=int, default=15)
    p.add_argument("--gop", type=int, default=15)
    p.add_argument("--bitrate", type=int, default=500)
    p.add_argument("--pattern", default="ball")
    p.add_argument("--scroll", type=int, default=0)
    p.add_argument("--file", default="")
    p.add_argument("--loop", action="store_true")
    p.add_argument("--transcode", action="store_true")
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")
    p.add_argument("--tls-cert", default="")
    p.add_argument("--tls-key", default="")
    return p.parse_args()


def h264_encoder(a):
    return (
        "x264enc tune=zerolatency speed-preset=ultrafast bitrate=%d key-int-max=%d "
        "! video/x-h264,profile=constrained-baseline" % (a.bitrate, a.gop)
    )


def launch_line(a):
    """The served pipeline; a file is fed into its appsrc by FileFeeder."""
    if a.file:
        return "( appsrc name=src format=time block=true max-bytes=4000000 " \
               "! h264parse ! rtph264pay name=pay0 pt=96 )"
    raw = (
        "videotestsrc is-live=true pattern=%s horizontal-speed=%d "
        "! video/x-raw,width=%d,height=%d,framerate=%d/1"
        % (a.pattern, a.scroll, a.width, a.height, a.fps)
    )
    if a.codec == "h265":
        enc = (
            "x265enc tune=zerolatency speed-preset=ultrafast bitrate=%d key-int-max=%d "
            "! h265parse ! rtph265pay name=pay0 pt=96 config-interval=-1"
            % (a.bitrate, a.gop)
        )
    else:
        enc = h264_encoder(a) + " ! h264parse ! rtph264pay name=pay0 pt=96"
    return "( %s ! %s )" % (raw, enc)


def reader_line(a):
    """Reads the file as H.264 access units with SPS/PPS before each IDR."""
    src = "filesrc location=\"%s\"" % a.file.replace("\"", "\\\"")
    if a.transcode:
        src += " ! decodebin ! videoconvert ! " + h264_encoder(a)
    else:
        src += " ! qtdemux"
    return src + (
        " ! h264parse config-interval=-1 "
        "! video/x-h264,stream-format=byte-stream,alignment=au "
        "! appsink name=out sync=false max-buffers=8"
    )


def required_elements(a):
    if a.file:
        names = ["appsrc", "appsink", "filesrc", "h264parse", "rtph264pay"]
        names += ["decodebin", "videoconvert", "x264enc"] if a.transcode else ["qtdemux"]
        return names
    if a.codec == "h265":
        return ["videotestsrc", "x265enc", "h265parse", "rtph265pay"]
    return ["videotestsrc", "x264enc", "h264parse", "rtph264pay"]


class FileFeeder:
    """Feeds a file's H.264 access units into one media's appsrc with the
    file's own timestamps. At the end it rewinds and shifts the next pass
    behind the last one (loop), or ends the stream and says so (once)."""

    def __init__(self, media, a):
        self.loop = a.loop
        self.src = media.get_element().get_by_name("src")
        self.reader = Gst.parse_launch(reader_line(a))
        self.out = self.reader.get_by_name("out")
        media.connect("unprepared", lambda _m: self.reader.set_state(Gst.State.NULL))
        self.reader.set_state(Gst.State.PLAYING)
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        offset = 0  # where the current pass starts
        end = 0  # where the data pushed so far ends
        while True:
            sample = self.out.emit("pull-sample")
            if sample is None:
                if not self.out.props.eos:
                    return  # reader stopped: the media is gone
                if not self.loop:
                    self.src.emit("end-of-stream")
                    GLib.idle_add(announce_eos)
                    return
                offset = end
                self.reader.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH, 0)
                continue
            if self.src.props.caps is None:
                self.src.props.caps = sample.get_caps()
            buf = sample.get_buffer().copy()
            # Encoders may start their timestamps at 1000 h: use the running
            # time, which starts at 0 on every pass.
            shift = buf.pts - sample.get_segment().to_running_time(Gst.Format.TIME, buf.pts)
            buf.pts += offset - shift
            if buf.dts != Gst.CLOCK_TIME_NONE and buf.dts >= shift:
                buf.dts += offset - shift
            else:
                buf.dts = buf.pts
            dur = buf.duration if buf.duration != Gst.CLOCK_TIME_NONE else 0
            end = max(end, buf.pts + dur)
            if self.src.emit("push-buffer", buf) != Gst.FlowReturn.OK:
                self.reader.set_state(Gst.State.NULL)
                return


class LiveMedia(GstRtspServer.RTSPMedia):
    """The shared live stream. On a pipeline error the camera exits (and
    testcam.go starts it again, as a camera reboots): gst-rtsp-server keeps
    a shared media that failed in its cache and answers every later
    DESCRIBE with 503, which no real camera does for ever."""

    def do_handle_message(self, message):
        if message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            print("FAILED media error: %s (%s)" % (err.message, debug), file=sys.stderr, flush=True)
            os._exit(4)
        return GstRtspServer.RTSPMedia.do_handle_message(self, message)


def announce_eos():
    print("EOS", flush=True)
    return False


def configure_auth(server, factory, a):
    """Basic auth and/or TLS; both need an auth object with a role that may
    open the factory."""
    if not (a.user or a.tls_cert):
        return
    role = "viewer"
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", role)
    auth = GstRtspServer.RTSPAuth()
    if a.user:
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(a.user, a.password), token)
    else:
        auth.set_default_token(token)
    if a.tls_cert:
        auth.set_tls_certificate(Gio.TlsCertificate.new_from_files(a.tls_cert, a.tls_key))
    factory.add_role_from_structure(Gst.Structure.new_from_string(
        "%s, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
        % role))
    server.set_auth(auth)


def main():
    a = parse_args()
    missing = [n for n in required_elements(a) if Gst.ElementFactory.find(n) is None]
    if missing:
        print("MISSING GStreamer elements: %s" % ", ".join(missing), flush=True)
        sys.exit(3)

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(a.port))

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(a))
    # A file plays from its start for every viewer; a live camera is shared.
    factory.set_shared(not a.file)
    if a.file:
        feeders = []
        factory.connect("media-configure",
                        lambda _f, media: feeders.append(FileFeeder(media, a)))
    else:
        factory.set_media_gtype(LiveMedia)
    configure_auth(server, factory, a)
    server.get_mount_points().add_factory(a.path, factory)

    try:
        if server.attach(None) == 0:
            raise GLib.Error("attach failed")
    except GLib.Error as err:
        print("FAILED cannot listen on 127.0.0.1:%d: %s" % (a.port, err), flush=True)
        sys.exit(2)

    loop = GLib.MainLoop()
    GLib.io_add_watch(sys.stdin.fileno(), GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR,
                      lambda *_: loop.quit())
    print("READY %d" % server.get_bound_port(), flush=True)
    loop.run()


if __name__ == "__main__":
    main()

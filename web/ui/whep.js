// WHEP player: one RTCPeerConnection per <video>, offer with all
// candidates (no trickle), DELETE on close.
"use strict";

class WhepPlayer {
  constructor(video, camera) {
    this.video = video;
    this.camera = camera;
    this.pc = null;
    this.location = null;
    // Milliseconds (performance.now) of the WHEP POST, its answer and the
    // first decoded frame: what a supervisor waits for.
    this.timing = {};
  }

  async start() {
    const pc = new RTCPeerConnection();
    this.pc = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.ontrack = (ev) => {
      this.video.srcObject = ev.streams[0] || new MediaStream([ev.track]);
      this.video.play().catch(() => { /* autoplay waits for a gesture */ });
      if (this.video.requestVideoFrameCallback) {
        this.video.requestVideoFrameCallback(() => { this.timing.firstFrame = performance.now(); });
      }
    };
    await pc.setLocalDescription(await pc.createOffer());
    await waitGathering(pc, 2000);
    this.timing.post = performance.now();
    const resp = await fetch("/whep/" + encodeURIComponent(this.camera), {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/sdp" }, csrfHeader()),
      body: pc.localDescription.sdp,
      credentials: "same-origin",
    });
    if (resp.status !== 201) {
      let msg = resp.statusText;
      try { msg = (await resp.json()).error || msg; } catch (_) { /* not JSON */ }
      throw new Error(msg);
    }
    this.timing.answer = performance.now();
    this.location = resp.headers.get("Location");
    await pc.setRemoteDescription({ type: "answer", sdp: await resp.text() });
  }

  async stop() {
    if (this.pc) this.pc.close();
    this.pc = null;
    if (this.location) {
      const loc = this.location;
      this.location = null;
      await fetch(loc, { method: "DELETE", headers: csrfHeader(), credentials: "same-origin" }).catch(() => {});
    }
  }
}

function csrfHeader() {
  const c = document.cookie.split("; ").find((x) => x.startsWith("hw_csrf="));
  return c ? { "X-CSRF-Token": decodeURIComponent(c.split("=")[1]) } : {};
}

// waitGathering resolves when ICE gathering completes or after ms.
function waitGathering(pc, ms) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, ms);
  });
}

// WHEP player: one RTCPeerConnection per <video>, offer with all
// candidates (no trickle), DELETE on close.
"use strict";

class WhepPlayer {
  // onState is told the connection's state changes ("connected", "failed"…).
  constructor(video, camera, onState = () => {}) {
    this.video = video;
    this.camera = camera;
    this.onState = onState;
    this.pc = null;
    this.location = null;
    // Milliseconds (performance.now) of the WHEP POST, its answer and the
    // first decoded frame: what a supervisor waits for.
    this.timing = {};
    this.presented = 0; // frames shown
  }

  async start() {
    const pc = new RTCPeerConnection();
    this.pc = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.ontrack = (ev) => {
      this.video.srcObject = ev.streams[0] || new MediaStream([ev.track]);
      this.video.play().catch(() => { /* autoplay waits for a gesture */ });
      if (this.video.requestVideoFrameCallback) {
        // Count the frames shown: a camera that sends nothing shows none.
        const shown = () => {
          if (!this.timing.firstFrame) this.timing.firstFrame = performance.now();
          this.presented++;
          if (this.pc === pc) this.video.requestVideoFrameCallback(shown);
        };
        this.video.requestVideoFrameCallback(shown);
      }
    };
    pc.onconnectionstatechange = () => { if (this.pc === pc) this.onState(pc.connectionState); };
    await pc.setLocalDescription(await pc.createOffer());
    await waitGathering(pc, 2000);
    if (this.pc !== pc) return; // stopped meanwhile
    this.timing.post = performance.now();
    const resp = await fetch("/whep/" + encodeURIComponent(this.camera), {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/sdp" }, csrfHeader()),
      body: pc.localDescription.sdp,
      credentials: "same-origin",
    });
    if (resp.status !== 201) {
      let body = {};
      try { body = await resp.json(); } catch (_) { body = { error: resp.statusText }; }
      if (resp.status === 401) goLogin();
      throw new ApiError(resp.status, body);
    }
    this.timing.answer = performance.now();
    this.location = resp.headers.get("Location");
    if (this.pc !== pc) { // stopped while the answer was on its way
      this.hangup(pc, false);
      return;
    }
    await pc.setRemoteDescription({ type: "answer", sdp: await resp.text() });
  }

  // frames is how many frames the video has shown so far.
  frames() {
    if (this.video.requestVideoFrameCallback) return this.presented;
    const q = this.video.getVideoPlaybackQuality ? this.video.getVideoPlaybackQuality() : null;
    return q ? q.totalVideoFrames : 0;
  }

  // stop ends the session. The DELETE goes first: closing the connection
  // first makes the server end the session itself (DTLS close), and the
  // DELETE that follows then finds nothing (404). A connection that
  // failed or closed has been ended by the server already.
  async stop(unloading = false) {
    const pc = this.pc;
    this.pc = null;
    if (pc) await this.hangup(pc, unloading);
  }

  async hangup(pc, unloading) {
    const loc = this.location;
    this.location = null;
    if (loc && pc.connectionState !== "failed" && pc.connectionState !== "closed") {
      await fetch(loc, { method: "DELETE", headers: csrfHeader(), credentials: "same-origin", keepalive: unloading }).catch(() => {});
    }
    pc.close();
    if (this.video.srcObject) this.video.srcObject = null;
  }
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

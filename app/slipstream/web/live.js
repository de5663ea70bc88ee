// The live view: slipstream's annotated output in a <video>, over WebRTC,
// signalled with WHEP (POST the offer to /api/v1/whep, get the answer and a
// session URL in Location, DELETE that URL when done). Non-trickle: the offer
// goes once ICE gathering is complete. It reconnects when the session drops,
// and says so when all viewer slots are taken (503) or the token is wrong (401).
// The API token is app.js's, from sessionStorage.
//
// Loaded async from <head>: the connection starts as soon as this file is in,
// while the rest of the page loads (on a busy machine the page takes a few
// hundred ms more); the <video> gets the stream once the page is parsed.
(() => {
  const WHEP = "/api/v1/whep";
  const TOKEN_KEY = "slipstream-api-token";
  let video = null, status = null;  // the page's elements, once parsed
  let stream = null;                // the latest stream, for the video

  // For tests and the curious: when the page's first frame showed, in ms since navigation.
  // marks: ms since navigation of each step (first-frame: the page's first only), to see where time goes.
  const live = (window.slipstreamLive = { firstFrameMs: null, state: "idle", connects: 0, marks: {} });
  const mark = (name) => { live.marks[name] = Math.round(performance.now()); };
  let peer = null;      // the RTCPeerConnection now
  let session = null;   // its WHEP session URL, once answered
  let retryTimer = null;
  let wanted = true;    // the Stop button turns it off
  let tokenUsed = null; // the token a 401 came for: a new one tries again

  let said = ["", "idle"];
  function say(text, state) {
    said = [text, state];
    live.state = state;
    if (!status) return;
    status.textContent = text;
    status.dataset.state = state;
  }

  function show(newStream) {
    stream = newStream;
    if (video) video.srcObject = stream;
  }

  function authorization() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    return token ? { Authorization: "Bearer " + token } : {};
  }

  // The server's sentence from a JSON error, else the status text.
  async function errorText(response) {
    try {
      const body = await response.json();
      return body.error || response.statusText;
    } catch {
      return response.statusText;
    }
  }

  // Ends the session: the server frees the slot at once (keepalive: also while the page unloads).
  function hangUp() {
    if (session) fetch(session, { method: "DELETE", headers: authorization(), keepalive: true }).catch(() => {});
    session = null;
    if (peer) peer.close();
    peer = null;
  }

  function retry(ms) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, ms);
  }

  // Resolves when ICE gathering is complete, 50 ms after the first candidate,
  // or after ms: host candidates come together, "complete" (chromium's mDNS
  // names) some 300 ms later. The offer carries what came; the server also
  // learns the browser's address from its connectivity checks.
  function gathered(pc, ms) {
    return new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      const timer = setTimeout(resolve, ms);
      const done = () => { clearTimeout(timer); resolve(); };
      pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") done(); });
      pc.addEventListener("icecandidate", (event) => { if (event.candidate) setTimeout(done, 50); });
    });
  }

  function dropped(pc, why) {
    if (pc !== peer || !wanted) return;
    hangUp();
    say(why + " Reconnecting…", "reconnecting");
    retry(1000);
  }

  async function connect() {
    clearTimeout(retryTimer);
    if (!wanted) return;
    hangUp();
    const pc = new RTCPeerConnection();
    peer = pc;
    live.connects += 1;
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.ontrack = (event) => show(event.streams[0] || new MediaStream([event.track]));
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "failed" || pc.connectionState === "closed") dropped(pc, "The live view dropped.");
      // "disconnected" may heal by itself; give it a few seconds.
      if (pc.connectionState === "disconnected") {
        setTimeout(() => { if (pc.connectionState === "disconnected") dropped(pc, "The live view was cut off."); }, 3000);
      }
    };
    say("Connecting…", "connecting");
    live.marks = {};
    mark("start");
    pc.addEventListener("connectionstatechange", () => mark(pc.connectionState));
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, 500);
      mark("gathered");
      const token = sessionStorage.getItem(TOKEN_KEY) || "";
      const response = await fetch(WHEP, {
        method: "POST",
        headers: { "Content-Type": "application/sdp", ...authorization() },
        body: pc.localDescription.sdp,
      });
      if (pc !== peer) return;
      mark("response");
      if (response.status === 201) {
        session = new URL(response.headers.get("Location"), location.href).href;
        await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
        say("Waiting for the first picture…", "answered");
        return;
      }
      const message = await errorText(response);
      hangUp();
      if (response.status === 401) {
        tokenUsed = token;
        say(token ? "Wrong API token: the live view needs the right one (Change token above)."
                  : "Enter the API token above to see the live view.", "token");
      } else if (response.status === 503) {
        say(message.charAt(0).toUpperCase() + message.slice(1) + ". Trying again every 5 s.", "full");
        retry(5000);
      } else if (response.status === 422 || response.status === 415) {
        say("No live view: " + message, "unavailable");
      } else {
        say("The live view failed: " + message + " Trying again in 5 s.", "error");
        retry(5000);
      }
    } catch (error) {
      if (pc !== peer) return;
      hangUp();
      say("The live view failed: " + error.message + ". Trying again in 5 s.", "error");
      retry(5000);
    }
  }

  // After a 401: try again once there is another token (app.js's form sets it).
  setInterval(() => {
    if (live.state === "token" && wanted && (sessionStorage.getItem(TOKEN_KEY) || "") !== tokenUsed) connect();
  }, 500);

  function firstFrame() {
    if (live.firstFrameMs === null) live.firstFrameMs = Math.round(performance.now());
    mark("first-frame");
  }

  // The page's elements: the video, its status line and the Stop/Start button.
  function attach() {
    video = document.getElementById("live-video");
    status = document.getElementById("live-status");
    const toggle = document.getElementById("live-toggle");
    if (!video || !status) return;
    say(...said);
    video.addEventListener("playing", () => say("Live", "playing"));
    if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
      video.requestVideoFrameCallback(firstFrame);
    } else {
      video.addEventListener("loadeddata", firstFrame, { once: true });
    }
    if (stream) video.srcObject = stream;
    if (toggle) {
      toggle.addEventListener("click", () => {
        wanted = !wanted;
        toggle.textContent = wanted ? "Stop" : "Start";
        if (wanted) {
          connect();
        } else {
          clearTimeout(retryTimer);
          hangUp();
          show(null);
          say("Stopped.", "stopped");
        }
      });
    }
  }

  window.addEventListener("pagehide", hangUp);
  connect();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", attach);
  } else {
    attach();
  }
})();

// The recent track events: polled from GET /api/v1/events/recent each time
// app.js refreshes the camera table, asking only for what came after the last
// sequence number seen. Newest first, at most MAX_EVENTS kept on the page.
"use strict";

(() => {
  const EVENTS_URL = "/api/v1/events/recent";
  const MAX_EVENTS = 50;

  let shown = [];          // newest first
  let lastSeq = null;      // the latest seq the list holds; null: ask for the newest
  let started = null;      // the run of slipstream lastSeq belongs to (its start time)
  let busy = false;        // one request at a time: a slow answer is not overtaken
  const cameraNames = new Map();  // camera_id -> name, kept after a camera leaves

  const read = (query) => api(`${EVENTS_URL}?${query}`);  // app.js's fetch with the token

  function status(text) {
    $("events-status").textContent = text;
    $("events-status").hidden = !text;
  }

  function render() {
    const list = $("events");
    list.replaceChildren();
    for (const event of shown) {
      const track = event.after;
      const item = document.createElement("li");
      item.className = "event event-" + event.type;
      item.dataset.seq = event.seq;
      item.dataset.type = event.type;
      item.dataset.cameraId = track.camera_id;
      item.dataset.trackId = track.track_id;
      const part = (className, text) => {
        const span = document.createElement("span");
        span.className = className;
        span.textContent = text;
        item.append(span);
      };
      part("time", new Date(event.time * 1000).toLocaleTimeString());
      part("type", event.type);
      part("camera", cameraNames.get(track.camera_id) || track.camera_id);
      part("object", `${track.label} #${track.track_id}`);
      part("confidence", `${Math.round(track.confidence * 100)}%`);
      list.append(item);
    }
    if (!shown.length) status(lastSeq === null ? "" : "No track events yet: they appear when objects are tracked.");
  }

  async function poll() {
    if (busy) return;
    busy = true;
    try {
      let answer = await read(lastSeq === null ? `limit=${MAX_EVENTS}` : `after=${lastSeq}&limit=${MAX_EVENTS}`);
      // Another run of slipstream (its numbers started again), or more than a
      // list's worth behind (only the newest matter): the list starts afresh.
      if (lastSeq !== null && (answer.started !== started || answer.latest < lastSeq || answer.more)) {
        shown = [];
        answer = await read(`limit=${MAX_EVENTS}`);
      }
      shown = answer.events.slice().reverse().concat(shown).slice(0, MAX_EVENTS);
      lastSeq = answer.latest;
      started = answer.started;
      status("");
      render();
    } catch (error) {
      shown = [];
      lastSeq = null;
      render();
      // Without the right token app.js asks for it; nothing to add here.
      status(error.status === 401 ? "" : "Cannot read the track events: " + error.message);
    } finally {
      busy = false;
    }
  }

  // app.js tells each refresh of the table, with the cameras it read (null when it could not).
  document.addEventListener("slipstream:cameras", (event) => {
    for (const camera of event.detail || []) cameraNames.set(camera.camera_id, camera.camera_name || camera.camera_id);
    poll();
  });
})();

// The control page: cameras from the stream API, polled; add and remove
// through DeepStream's POST bodies. The token, when the server wants one, is
// asked once and kept in sessionStorage (gone when the tab closes).
"use strict";

const API = "/api/v1/stream";
const POLL_MS = 1500;
const TOKEN_KEY = "slipstream-api-token";

const $ = (id) => document.getElementById(id);
let pollTimer = null;

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

// fetch of an API path with the token (events.js uses it too); throws an Error
// whose message is the server's own sentence.
async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers);
  if (token()) headers.Authorization = "Bearer " + token();
  const response = await fetch(path, Object.assign({}, options, { headers }));
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON: reported below */ }
  if (!response.ok) {
    const error = new Error((body && body.error) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function cell(row, label, text, className) {
  const td = row.insertCell();
  td.dataset.label = label;
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function number(value, digits = 1) { return typeof value === "number" ? value.toFixed(digits) : "–"; }

function renderCameras(cameras) {
  const body = $("cameras").tBodies[0];
  body.replaceChildren();
  for (const camera of cameras) {
    const row = body.insertRow();
    row.dataset.cameraId = camera.camera_id;
    cell(row, "Name", camera.camera_name || camera.camera_id, "name");
    cell(row, "URL", camera.camera_url, "url");
    const state = cell(row, "State", camera.state + (camera.reason ? ` (${camera.reason})` : ""), "state");
    state.classList.add("state-" + String(camera.state).toLowerCase().replace(/[^a-z]+/g, "-"));
    cell(row, "Frames", String(camera.frames_shown ?? "–"), "frames");
    cell(row, "fps in / shown", `${number(camera.fps_in)} / ${number(camera.fps_shown)}`, "fps");
    cell(row, "Detections/s", number(camera.detections_per_s), "detections");
    const groups = Object.entries(camera.detections_by_group || {}).map(([g, n]) => `${g} ${n}`).join(", ");
    cell(row, "Objects by group", groups || "–", "groups");
    const actions = row.insertCell();
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove ${camera.camera_name || camera.camera_id}`);
    remove.addEventListener("click", () => removeCamera(camera.camera_id, remove));
    actions.append(remove);
  }
  $("camera-count").textContent = `(${cameras.length})`;
  $("no-cameras").hidden = cameras.length > 0;
}

async function refresh() {
  let cameras = null;
  try {
    const answer = await api(API + "/get-stream-info");
    const info = answer["stream-info"] || {};
    cameras = info["stream-info"] || [];
    renderCameras(cameras);
    showError("");
    $("connection").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (error) {
    if (error.status === 401) {
      // No data without the right token: clear the table and ask again.
      renderCameras([]);
      $("camera-count").textContent = "";
      $("no-cameras").hidden = true;  // unknown, not empty
      // No token yet: the form is enough; a token given and refused: say so.
      showError(token() ? "Wrong API token: " + error.message : "");
      $("token-form").hidden = false;
      $("forget-token").hidden = true;
    } else {
      showError("Cannot read the cameras: " + error.message);
    }
    $("connection").textContent = "not updated";
  }
  // The recent track events (events.js) refresh with the table and name cameras as it does.
  document.dispatchEvent(new CustomEvent("slipstream:cameras", { detail: cameras }));
}

function startPolling() {
  clearInterval(pollTimer);
  refresh();
  pollTimer = setInterval(refresh, POLL_MS);
}

// camera_id: not asked of the user; made unique enough from the name and time.
function newCameraId(name) {
  const stem = (name || "camera").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "camera";
  return `${stem}-${Date.now().toString(36)}`;
}

async function addCamera(event) {
  event.preventDefault();
  const url = $("add-url").value.trim();
  const name = $("add-name").value.trim();
  const id = newCameraId(name);
  $("add-result").textContent = "adding…";
  try {
    await api(API + "/add", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ key: "sensor", value: { camera_id: id, camera_name: name || id, camera_url: url, change: "camera_add" } }),
    });
    $("add-result").textContent = `Added ${name || id}.`;
    $("add-form").reset();
    refresh();
  } catch (error) {
    $("add-result").textContent = "Not added: " + error.message;
  }
}

async function removeCamera(id, button) {
  button.disabled = true;
  try {
    await api(API + "/remove", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ key: "sensor", value: { camera_id: id, change: "camera_remove" } }),
    });
    refresh();
  } catch (error) {
    button.disabled = false;
    showError(`Cannot remove ${id}: ${error.message}`);
  }
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token-input").value);
  $("token-input").value = "";
  $("token-form").hidden = true;
  $("forget-token").hidden = false;
  startPolling();
});
$("forget-token").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  $("forget-token").hidden = true;
  $("token-form").hidden = false;
});
$("add-form").addEventListener("submit", addCamera);
$("forget-token").hidden = !token();
startPolling();

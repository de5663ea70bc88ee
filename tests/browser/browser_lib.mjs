// What test_page.mjs and test_live.mjs share: their log folder, playwright-core,
// free ports, the child processes they start and stop, waiting and checking.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export const WAIT_MS = 30000;  // generous for what has no bound of its own: a slow 2-core machine decodes and detects too

let logs = null;
// The same log folder as the Python tests' harness: $SLIPSTREAM_TEST_LOGS/<name>/, emptied.
export function artifactDir(slipstreamBin, name) {
  const root = process.env.SLIPSTREAM_TEST_LOGS || path.join(path.dirname(path.dirname(path.dirname(slipstreamBin))), "test-logs");
  const dir = path.join(root, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  logs = dir;
  return dir;
}
export const artifact = (name) => path.join(logs, name);

// playwright-core from the cache that setup.sh fills (the script is idempotent and quiet).
export function loadPlaywright() {
  const modules = execFileSync(path.join(here, "..", "..", "tools", "fetch_browser_test.sh"), ["--print-path"], { encoding: "utf8" }).trim();
  return createRequire(path.join(modules, "noop.js"))("playwright-core");
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const children = [];
// A child whose output is saved as it comes; resolves once `readyLine` matches a stdout line
// (at once when readyLine is null). onLine, if given, sees every stdout line.
export function start(name, args, env, readyLine, timeoutMs, onLine) {
  // The command for the log, with the value after --auth masked.
  const shown = args.map((a, i) => (args[i - 1] === "--auth" ? "***" : a));
  fs.writeFileSync(artifact(name + ".cmd"), shown.join(" ") + "\n");
  const child = spawn(args[0], args.slice(1), { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const out = fs.createWriteStream(artifact(name + ".stdout"));
  child.stderr.pipe(fs.createWriteStream(artifact(name + ".stderr")));
  return new Promise((resolve, reject) => {
    let pending = "";
    let ready = !readyLine;
    if (ready) resolve(child);
    const timer = ready ? null : setTimeout(() => reject(new Error(`${name}: no line matching ${readyLine} within ${timeoutMs / 1000} s (see ${logs})`)), timeoutMs);
    child.stdout.on("data", (data) => {
      out.write(data);
      pending += data;
      const lines = pending.split("\n");
      pending = lines.pop();
      for (const line of lines) {
        if (onLine) onLine(line);
        if (!ready && readyLine.test(line)) {
          ready = true;
          clearTimeout(timer);
          resolve(child);
        }
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${name} exited (${code}) before it was ready (see ${logs})`));
    });
  });
}

function stopChildren() {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
}
process.on("exit", () => { for (const child of children) if (child.exitCode === null) child.kill("SIGKILL"); });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A waitFor polling every pollMs: each test keeps the interval it was written with.
export function waiter(pollMs) {
  return async function waitFor(what, check, timeoutMs = WAIT_MS) {
    const end = Date.now() + timeoutMs;
    let last;
    while (Date.now() < end) {
      try {
        last = await check();
        if (last) return last;
      } catch (error) {
        last = error.message;
      }
      await sleep(pollMs);
    }
    throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what} (last: ${JSON.stringify(last)})`);
  };
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
  console.log("ok: " + message.replace(/^not /, ""));
}

// Runs main, then stops the children and exits (0 or 1) 1.5 s later.
export function run(main, name) {
  main().then(() => {
    stopChildren();
    console.log(`${name}: passed (screenshots in ${logs})`);
    setTimeout(() => process.exit(0), 1500);
  }, (error) => {
    console.error("FAIL: " + (error.stack || error.message));
    stopChildren();
    setTimeout(() => process.exit(1), 1500);
  });
}

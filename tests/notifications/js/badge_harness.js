// Runs static/js/badge.js against a minimal fake page (badge element, timers, fetch) and prints, as JSON,
// what a user would see after each step. Driven by tests/notifications/test_badge_js.py.
"use strict";
const fs = require("fs");
const vm = require("vm");

const attributes = { "data-count-url": "/api/v1/notifications/unread-count/", "data-etag": '"n-page"' };
const badge = {
  textContent: "0", hidden: true,
  getAttribute: (name) => attributes[name] ?? null,
  setAttribute: (name, value) => { attributes[name] = String(value); },
};
const listeners = {};
const document = {
  hidden: false,
  getElementById: (id) => (id === "unread-badge" ? badge : null),
  addEventListener: (type, fn) => { listeners[type] = fn; },
};
let timers = [];
const setTimeout = (fn, ms) => { timers.push({ fn, ms }); return timers.length; };
const clearTimeout = (id) => { if (id && timers[id - 1]) timers[id - 1].cancelled = true; };
const responses = JSON.parse(process.argv[3]);
const requests = [];
const fetch = (url, options) => {
  requests.push({ url, ifNoneMatch: options.headers["If-None-Match"] || null, credentials: options.credentials });
  const r = responses.shift();
  return Promise.resolve({
    status: r.status,
    ok: r.status >= 200 && r.status < 300,
    headers: { get: (name) => (name === "ETag" ? r.etag || null : null) },
    json: () => Promise.resolve(r.body),
  });
};
const settle = () => new Promise((resolve) => setImmediate(resolve));
const pending = () => timers.filter((t) => !t.cancelled);
const snapshot = (step) => ({
  step, text: badge.textContent, label: attributes["aria-label"] ?? null, hidden: badge.hidden, next_poll_ms: pending().map((t) => t.ms).pop() ?? null,
  requests: requests.length, last_if_none_match: requests.length ? requests[requests.length - 1].ifNoneMatch : null,
});

async function fire() {
  const due = pending().pop();
  timers = [];
  if (!due) return; // nothing scheduled: the script has stopped polling
  due.fn();
  await settle();
}

(async () => {
  vm.runInNewContext(fs.readFileSync(process.argv[2], "utf8"), {
    window: { fetch }, document, fetch, setTimeout, clearTimeout, String,
  });
  const seen = [snapshot("loaded")];
  await fire(); seen.push(snapshot("poll 1"));
  await fire(); seen.push(snapshot("poll 2"));
  await fire(); seen.push(snapshot("poll 3"));
  document.hidden = true; listeners.visibilitychange(); seen.push(snapshot("tab hidden"));
  document.hidden = false; listeners.visibilitychange(); await settle(); seen.push(snapshot("tab visible again"));
  process.stdout.write(JSON.stringify(seen));
})();

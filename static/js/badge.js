/* Live unread badge: polls the conditional unread-count endpoint and updates the header badge.

   Cost of an idle open tab: one GET every 4 s while visible (every 60 s while hidden), answered 304
   with no body when nothing changed; the server spends one query on it besides authentication.
   Without JavaScript the badge simply shows the count of the page load. */
(function () {
  "use strict";
  var badge = document.getElementById("unread-badge");
  if (!badge || !window.fetch) {
    return;
  }
  var url = badge.getAttribute("data-count-url");
  var etag = badge.getAttribute("data-etag");
  var VISIBLE_MS = 4000;
  var HIDDEN_MS = 60000;
  var timer = null;
  var inFlight = false;
  var stopped = false;

  function render(count) {
    badge.textContent = String(count);
    // The label is the badge's accessible name, in place of its text: it must say the number too.
    badge.setAttribute("aria-label", count + " unread");
    badge.hidden = count === 0;
  }

  function schedule() {
    clearTimeout(timer);
    if (!stopped) {
      timer = setTimeout(poll, document.hidden ? HIDDEN_MS : VISIBLE_MS);
    }
  }

  function poll() {
    clearTimeout(timer);
    if (inFlight || stopped) {
      return;
    }
    inFlight = true;
    var headers = { Accept: "application/json" };
    if (etag) {
      headers["If-None-Match"] = etag;
    }
    fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 304) {
          return null;
        }
        if (response.status === 401 || response.status === 403) {
          stopped = true; // logged out in another tab: nothing to count any more
          return null;
        }
        if (!response.ok) {
          return null; // a passing server error: try again at the next tick
        }
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (data) {
        if (data && typeof data.unread_count === "number") {
          render(data.unread_count);
        }
      })
      .catch(function () {
        /* offline for a moment: the next tick tries again */
      })
      .then(function () {
        inFlight = false;
        schedule();
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      poll();
    } else {
      schedule();
    }
  });
  schedule();
})();

// "Computing…" placeholders: poll the task named by this script's data-task-url and reload the page
// once it is done. Loaded by templates/friends/_computing_head.html; a file, not an inline script, so
// the Content-Security-Policy can refuse every inline script.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script ? script.getAttribute("data-task-url") : "";

  function reload() { window.location.reload(); }

  function failed() {
    // Not a reload: the failed task stays pending for a while, and reloading would loop on it.
    document.querySelectorAll(".computing").forEach(function (el) {
      el.textContent = "Computing failed. Reload the page later to try again.";
    });
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) { setTimeout(reload, 3000); return null; }
        return response.json();
      })
      .then(function (task) {
        if (!task) return;
        if (task.state === "done") reload();
        else if (task.state === "failed") failed();
        else setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 1000); });
  }

  if (url) {
    setTimeout(poll, 1000);
  } else {
    setTimeout(reload, 3000);  // the task could not be enqueued: ask again
  }
})();

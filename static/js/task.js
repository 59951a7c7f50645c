// A task's page while the task runs: poll its status (GET /api/v1/tasks/<id>/, session auth) every second
// and show its state and progress in place. Once it has finished, reload so the page shows the final
// record. Without JavaScript the page refreshes itself instead (<noscript> meta refresh).
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script ? script.getAttribute("data-task-url") : "";
  var LABELS = {enqueued: "Enqueued", running: "Running", retrying: "Retrying", done: "Done", failed: "Failed"};
  if (!url || !window.fetch) {
    return;
  }

  function show(task) {
    var state = document.getElementById("task-state");
    if (state && LABELS[task.state]) {
      state.textContent = LABELS[task.state];
      state.className = "state state-" + task.state;
    }
    var bar = document.getElementById("task-progress");
    var text = document.getElementById("task-progress-text");
    if (task.progress) {
      if (!bar || !text) {
        return false; // the page has no progress bar yet: the reload draws one
      }
      bar.max = task.progress.total;
      bar.value = task.progress.done;
      bar.textContent = task.progress.done + "/" + task.progress.total;
      text.textContent = task.progress.done + "/" + task.progress.total + " " + (task.progress.message || "");
    }
    return true;
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}, cache: "no-store"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (task) {
        if (!task) { setTimeout(poll, 3000); return; }
        if (!show(task) || task.state === "done" || task.state === "failed") {
          window.location.reload();
          return;
        }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }

  setTimeout(poll, 1000);
})();

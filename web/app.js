"use strict";
// The web frontend's script (web/index.html). The page works without it;
// with it, the table stays fresh (the server renders the rows, GET /rows,
// every 2 s; only cells that changed are replaced, so a focused button
// stays put), the buttons post in the background (the browser sends
// Origin, which the server checks) and ask before the frontend stops
// itself, and "log" follows a program's output through Server-Sent Events.
(function () {
  var tbody = document.querySelector("#programs tbody");
  var message = document.getElementById("message");
  var errBox = document.getElementById("error");
  var updated = document.getElementById("updated");
  var logText = document.getElementById("logtext");
  var logName = document.getElementById("logname");
  var source = null;

  // update puts the server's new rows into the table, cell by cell.
  function update(html) {
    var fresh = document.createElement("template");
    fresh.innerHTML = html; // the server's own html/template output
    var rows = fresh.content.querySelectorAll("tr");
    var same = rows.length === tbody.rows.length;
    for (var i = 0; same && i < rows.length; i++) {
      same = rows[i].dataset.name === tbody.rows[i].dataset.name && rows[i].cells.length === tbody.rows[i].cells.length;
    }
    if (!same) {
      tbody.replaceChildren(fresh.content);
      return;
    }
    rows.forEach(function (tr, i) {
      var old = tbody.rows[i];
      old.dataset.state = tr.dataset.state;
      Array.prototype.slice.call(tr.cells).forEach(function (td, j) {
        if (old.cells[j].outerHTML !== td.outerHTML) old.replaceChild(td.cloneNode(true), old.cells[j]);
      });
    });
  }

  function refresh() {
    fetch("/rows", {credentials: "same-origin"}).then(function (r) {
      return r.text().then(function (text) {
        if (!r.ok) throw new Error(text.trim() || r.statusText);
        return text;
      });
    }).then(function (html) {
      update(html);
      errBox.textContent = "";
      updated.textContent = "updated " + new Date().toLocaleTimeString();
      updated.dataset.live = "yes";
    }).catch(function (e) {
      errBox.textContent = "cannot get the status: " + e.message;
    });
  }

  function say(text, failed) {
    message.textContent = text;
    message.classList.toggle("failed", !!failed);
  }

  // A form's button: the same POST the form would send, without the
  // redirect back to the page (back=1), answered in JSON.
  document.addEventListener("submit", function (ev) {
    var form = ev.target, button = ev.submitter;
    ev.preventDefault();
    var question = button && button.dataset.confirm;
    if (question && !window.confirm(question)) return;
    var body = new URLSearchParams(new FormData(form, button));
    body.delete("back");
    if (question) body.set("confirm", "1");
    var action = button ? button.formAction : form.action;
    say(action.replace(/^.*\/api\//, "") + " " + (body.getAll("name").join(" ") || "all") + " ...");
    if (form.id === "confirm") form.remove();
    fetch(action, {method: "POST", body: body, credentials: "same-origin"}).then(function (r) {
      return r.json();
    }).then(function (res) {
      say(res.message || res.error || "", res.exit !== 0);
      refresh();
    }).catch(function (e) {
      say("no answer: " + e.message + " (the frontend may be restarting; the table comes back when it answers)", true);
    });
  });

  function follow(name) {
    if (source) source.close();
    logName.textContent = name;
    logText.textContent = "";
    source = new EventSource("/api/follow?n=100&name=" + encodeURIComponent(name));
    source.onmessage = function (ev) {
      var atEnd = logText.scrollTop + logText.clientHeight >= logText.scrollHeight - 4;
      logText.textContent += JSON.parse(ev.data);
      if (logText.textContent.length > 400000) logText.textContent = logText.textContent.slice(-200000);
      if (atEnd) logText.scrollTop = logText.scrollHeight;
    };
    source.addEventListener("notice", function (ev) {
      logText.textContent += "-- " + JSON.parse(ev.data) + " --\n";
    });
    source.addEventListener("end", function (ev) {
      logText.textContent += "\n-- " + (JSON.parse(ev.data) || "end of stream") + " --\n";
      source.close();
    });
    // Not the browser's own reconnection, which would repeat the last lines.
    source.onerror = function () {
      logText.textContent += "\n-- lost the connection to the frontend; choose \"log\" again --\n";
      source.close();
    };
  }
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest("a[data-follow]");
    if (!a) return;
    ev.preventDefault();
    follow(a.dataset.follow);
  });

  refresh();
  setInterval(refresh, 2000);
})();

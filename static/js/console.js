/* Keeps relative times current and refreshes incident panels when the incident changes.
   The page is complete without this script; the websocket only makes it fast. */
(function () {
  "use strict";

  function formatDuration(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + " min";
    var h = Math.floor(m / 60);
    m = m % 60;
    if (h < 48) return h + " h " + (m < 10 ? "0" : "") + m + " min";
    return Math.floor(h / 24) + " d " + (h % 24) + " h";
  }

  var STATE_TEXT = { on_track: "On track", due_soon: "Due soon", stopped: "Stopped" };

  // Update clocks change state in the page as time passes; only a change of state is
  // announced, through the polite status region, never the ticking itself.
  function tickClocks(now) {
    var announcer = document.getElementById("clock-announcer");
    document.querySelectorAll("[data-clock]").forEach(function (row) {
      var badge = row.querySelector("[data-clock-state]");
      if (!badge) return;
      var due = Date.parse(row.dataset.due);
      var soon = Date.parse(row.dataset.soon);
      var state = "on_track";
      if (row.hasAttribute("data-stopped")) state = "stopped";
      else if (now >= due) state = "overdue";
      else if (now >= soon) state = "due_soon";
      var text = state === "overdue"
        ? "Overdue: silent for " + formatDuration(now - due)
        : STATE_TEXT[state];
      var previous = row.dataset.state || badge.className.replace(/.*badge--/, "");
      badge.className = "badge badge--" + state;
      if (badge.textContent !== text) badge.textContent = text;
      if (previous !== state && row.dataset.state && announcer) {
        announcer.textContent = row.dataset.audience + " update: " +
          (state === "overdue" ? "overdue. Silence has begun." : STATE_TEXT[state] + ".");
      }
      row.dataset.state = state;
    });
  }

  function tick() {
    var now = Date.now();
    tickClocks(now);
    document.querySelectorAll("[data-relative]").forEach(function (el) {
      var delta = Date.parse(el.dataset.relative) - now;
      el.textContent = delta > 0 ? "in " + formatDuration(delta) : formatDuration(delta) + " ago";
    });
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var scale = parseInt(el.dataset.scale || "1", 10);
      el.textContent = formatDuration(Math.max(0, now - Date.parse(el.dataset.since)) * scale);
    });
  }

  function connectLive(root) {
    var status = root.querySelector("[data-live-status]");
    var lastSequence = parseInt(root.dataset.sequence || "0", 10);
    var attempt = 0;

    function say(text) { if (status) status.textContent = "Live updates: " + text; }
    function refresh() { document.body.dispatchEvent(new CustomEvent("incident-changed")); }

    function open() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + window.location.host + root.dataset.wsPath);
      socket.onopen = function () { attempt = 0; say("on"); };
      socket.onmessage = function (message) {
        var data = JSON.parse(message.data);
        if (typeof data.sequence !== "number") return;
        // On connect ("hello") or any change newer than what the page shows, re-fetch.
        if (data.sequence > lastSequence) {
          lastSequence = data.sequence;
          refresh();
        }
      };
      socket.onclose = function (event) {
        if (event.code === 4401 || event.code === 4403) { say("off (sign in again to resume)"); return; }
        say("reconnecting…");
        attempt += 1;
        var delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
        window.setTimeout(open, delay);
      };
    }
    open();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    tick();
    window.setInterval(tick, 1000);
    var root = document.querySelector("[data-ws-path]");
    if (root && "WebSocket" in window) connectLive(root);
  });
})();

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

  // An exercise's clock runs faster than the wall clock; its spans carry the speed.
  function scaleOf(el) {
    return parseInt(el.dataset.scale || "1", 10) || 1;
  }

  var STATE_TEXT = { on_track: "On track", due_soon: "Due soon", stopped: "Stopped" };

  // Update clocks change state in the page as time passes; only a change of state is
  // announced, through the polite status region, never the ticking itself.
  function tickClocks(now) {
    var announcer = document.getElementById("clock-announcer");
    document.querySelectorAll("[data-clock]").forEach(function (row) {
      if (row.dataset.frozen) return;
      var badge = row.querySelector("[data-clock-state]");
      if (!badge) return;
      var due = Date.parse(row.dataset.due);
      var soon = Date.parse(row.dataset.soon);
      var state = "on_track";
      if (row.hasAttribute("data-stopped")) state = "stopped";
      else if (now >= due) state = "overdue";
      else if (now >= soon) state = "due_soon";
      var text = state === "overdue"
        ? "Overdue: silent for " + formatDuration((now - due) * scaleOf(row)) +
          (row.dataset.suffix || "")
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
    if (paused) return;
    var now = Date.now();
    tickClocks(now);
    // A paused exercise clock stands still: its spans keep the text the server gave them.
    document.querySelectorAll("[data-relative]").forEach(function (el) {
      if (el.dataset.frozen) return;
      var delta = (Date.parse(el.dataset.relative) - now) * scaleOf(el);
      el.textContent = (delta > 0 ? "in " + formatDuration(delta) : formatDuration(delta) + " ago") +
        (el.dataset.suffix || "");
    });
    document.querySelectorAll("[data-since]").forEach(function (el) {
      if (el.dataset.frozen) return;
      el.textContent = formatDuration(Math.max(0, now - Date.parse(el.dataset.since)) * scaleOf(el)) +
        (el.dataset.suffix || "");
    });
  }

  var paused = false;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // Pushed fragments are rendered once per audience and carry no CSRF token: add the
  // reader's own to any form that lacks one, and to every htmx request.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.method && form.method.toLowerCase() === "post" &&
        !form.querySelector("input[name=csrfmiddlewaretoken]")) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "csrfmiddlewaretoken";
      input.value = csrfToken();
      form.appendChild(input);
    }
  }, true);
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
    // While live updates are paused, panels do not refresh themselves.
    var elt = event.detail.elt;
    if (paused && event.detail.verb === "get" && elt && elt.id && elt.id.indexOf("panel-") === 0) {
      event.preventDefault();
    }
  });

  // Swap pushed panels in by id, unless the reader is working inside one: that panel is
  // swapped when focus leaves it.
  var deferred = {};
  function swapIn(fresh) {
    var current = document.getElementById(fresh.id);
    if (!current) return;
    if (current.hasAttribute("data-swap")) {
      // A slot that is a live region keeps its element, so a screen reader hears the change.
      if (current.innerHTML !== fresh.innerHTML) current.innerHTML = fresh.innerHTML;
      return;
    }
    if (parseInt(current.dataset.seq || "0", 10) > parseInt(fresh.dataset.seq || "0", 10)) return;
    if (current.contains(document.activeElement)) {
      deferred[fresh.id] = fresh;
      return;
    }
    var openDetails = Array.prototype.map.call(current.querySelectorAll("details"), function (d) {
      return d.open;
    });
    fresh.querySelectorAll("details").forEach(function (d, i) { if (openDetails[i]) d.open = true; });
    current.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
  }
  document.addEventListener("focusout", function () {
    window.setTimeout(function () {
      Object.keys(deferred).forEach(function (id) {
        var current = document.getElementById(id);
        if (current && !current.contains(document.activeElement)) {
          var fresh = deferred[id];
          delete deferred[id];
          swapIn(fresh);
        }
      });
    }, 0);
  });

  // One live connection per page. The incident page follows one incident; dashboards
  // (#live-root) follow every incident of the district, one block per incident.
  function connectLive(root) {
    var status = document.querySelector("[data-live-status]");
    var toggle = document.querySelector("[data-live-toggle]");
    var dashboard = root.id === "live-root";
    var incidentId = root.dataset.incident;
    var last = {};
    var attempt = 0;
    var failedOpens = 0;
    // When the server last closed the socket saying it was restarting (close code 1012).
    var restartedAt = null;
    // Refusals of sign-in since the last socket that was let in.
    var refusedSignIns = 0;
    var pollTimer = null;
    var watchdog = null;
    var socket = null;
    var missed = false;

    function readSequences() {
      if (!dashboard) {
        last[incidentId] = Math.max(last[incidentId] || 0, parseInt(root.dataset.sequence || "0", 10));
        return;
      }
      last = {};
      document.querySelectorAll("#live-root [data-incident]").forEach(function (block) {
        last[block.dataset.incident] = parseInt(block.dataset.seq || "0", 10);
      });
    }
    readSequences();
    document.addEventListener("htmx:afterSettle", function (event) {
      if (dashboard && event.target && event.target.id === "live-root") readSequences();
    });

    function say(text) { if (status) status.textContent = "Live updates: " + text; }

    // Fetch the page over HTTP and swap in its panels (or, on a dashboard, its incidents).
    // What the page knows moves on only once the fetch has succeeded, so a fetch that fails
    // is tried again at the next hello or heartbeat that is ahead of the page.
    var fetching = false;
    var fetchAgain = false;
    var announced = {};
    function refresh() {
      if (paused) { missed = true; return; }
      if (fetching) { fetchAgain = true; return; }
      fetching = true;
      var asked = Object.assign({}, announced);
      window.fetch(window.location.pathname + window.location.search,
        { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok || response.redirected) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (text) {
          var doc = new DOMParser().parseFromString(text, "text/html");
          doc.querySelectorAll("[data-swap]").forEach(swapIn);
          if (dashboard) {
            var fresh = doc.getElementById("live-root");
            var current = document.getElementById("live-root");
            if (!fresh || !current) throw new Error("the page has no incidents block");
            current.replaceWith(fresh);
            if (window.htmx) window.htmx.process(fresh);
            readSequences();
            // Incidents this page does not show are known as of the fetch, not fetched again.
            Object.keys(asked).forEach(function (id) { if (!(id in last)) last[id] = asked[id]; });
            return;
          }
          var page = doc.querySelector("[data-ws-path]");
          if (!page) throw new Error("the page has no incident");
          doc.querySelectorAll("[id^='panel-']").forEach(swapIn);
          last[incidentId] = Math.max(last[incidentId] || 0, parseInt(page.dataset.sequence || "0", 10));
        })
        .catch(function () { /* The next hello or heartbeat ahead of the page retries. */ })
        .then(function () {
          fetching = false;
          if (fetchAgain) { fetchAgain = false; refresh(); }
        });
    }

    // Anything newer than the page shows, learnt from a hello or a heartbeat: fetch it.
    function catchUp(sequences) {
      var behind = false;
      Object.keys(sequences).forEach(function (id) {
        announced[id] = Math.max(announced[id] || 0, sequences[id]);
        if (sequences[id] > (id in last ? last[id] : -1)) behind = true;
      });
      if (behind) refresh();
    }

    function apply(message) {
      var key = String(message.incident || incidentId);
      var known = key in last;
      if (paused || (known && message.from > last[key]) || (!known && !dashboard)) {
        // Paused, or a push went missing: fetch over HTTP rather than trust fragments.
        refresh();
        return;
      }
      var holder = document.createElement("template");
      holder.innerHTML = message.html || "";
      var unplaced = false;
      Array.prototype.slice.call(holder.content.children).forEach(function (fresh) {
        if (!fresh.id) return;
        if (document.getElementById(fresh.id)) swapIn(fresh); else unplaced = true;
      });
      last[key] = Math.max(last[key] || 0, message.sequence);
      // A block the page does not have yet (a new incident): fetch the whole list.
      if (unplaced || message.type === "refresh") refresh();
    }

    function armWatchdog() {
      window.clearTimeout(watchdog);
      // Heartbeats come every 5 seconds; none for 20 and the socket is taken for dead (its
      // groups may be gone): the page reconnects and catches up over HTTP.
      watchdog = window.setTimeout(function () { if (socket) socket.close(); }, 20000);
    }

    // A server that said it was restarting is usually back within seconds: for 15 seconds
    // the page tries every 0.25-1 s, spread at random so a thousand pages do not arrive at
    // once. Otherwise it backs off, doubling up to 30 s, so a server that is down for longer
    // is not hammered.
    function restarting() {
      return restartedAt !== null && Date.now() - restartedAt < 15000;
    }

    function retryDelay() {
      if (restarting()) return 250 + Math.random() * 750;
      return Math.min(30000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
    }

    function startPolling() {
      if (pollTimer) return;
      say("checking every 20 seconds (live connection unavailable)");
      pollTimer = window.setInterval(refresh, 20000);
    }

    function stopPolling() {
      window.clearInterval(pollTimer);
      pollTimer = null;
    }

    // The newest admission pass the server gave this page (with each hello, and renewed on
    // heartbeats): reconnecting with it after a restart spares the server the whole lookup.
    var admissionPass = null;

    function open() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var opened = false;
      var query = admissionPass ? "?pass=" + encodeURIComponent(admissionPass) : "";
      socket = new WebSocket(scheme + window.location.host + root.dataset.wsPath + query);
      socket.onopen = function () {
        opened = true;
        attempt = 0;
        failedOpens = 0;
        restartedAt = null;
        stopPolling();
        say(paused ? "paused" : "on");
        armWatchdog();
      };
      socket.onmessage = function (event) {
        armWatchdog();
        var message = JSON.parse(event.data);
        if (message.type === "hello") refusedSignIns = 0;
        if (message.pass) admissionPass = message.pass;
        if (message.type === "push") {
          apply(message);
        } else if (message.type === "refresh") {
          var changed = {};
          changed[message.incident] = message.sequence;
          catchUp(changed);
        } else if (message.sequences) {
          catchUp(message.sequences);
        } else if (typeof message.sequence === "number") {
          var one = {};
          one[incidentId] = message.sequence;
          catchUp(one);
        }
      };
      socket.onclose = function (event) {
        window.clearTimeout(watchdog);
        // Signed out, refused or access changed: the next attempt is checked in full.
        if (event.code >= 4400 && event.code < 4500) admissionPass = null;
        if (event.code === 4403 || (event.code === 4401 && refusedSignIns >= 3)) {
          stopPolling();
          say("off (sign in again to resume)");
          return;
        }
        if (event.code === 4401) {
          // Told the session ended: ask over HTTP before giving up. Signing out on another
          // device ends that device's session only, and this one may still be signed in.
          refusedSignIns += 1;
          window.fetch(window.location.pathname + window.location.search,
            { credentials: "same-origin", headers: { Accept: "text/html" } })
            .then(function (response) {
              if (response.ok && !response.redirected) {
                window.setTimeout(open, 500);
              } else {
                stopPolling();
                say("off (sign in again to resume)");
              }
            })
            .catch(function () { window.setTimeout(open, 2000); });
          return;
        }
        if (event.code === 1012) restartedAt = Date.now();
        if (!opened) failedOpens += 1;
        if (failedOpens >= 3 && !restarting()) startPolling(); else say("reconnecting…");
        attempt += 1;
        window.setTimeout(open, event.code === 4409 ? 100 : retryDelay());
      };
    }

    if (toggle) {
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        paused = !paused;
        toggle.setAttribute("aria-pressed", paused ? "true" : "false");
        toggle.textContent = paused ? "Resume live updates" : "Pause live updates";
        say(paused ? "paused" : "on");
        if (!paused && missed) { missed = false; refresh(); }
      });
    }
    open();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    // A file chosen for a scenario is read into its text box; the console takes no uploads.
    document.querySelectorAll("[data-file-reader]").forEach(function (field) {
      var input = field.querySelector("input[type=file]");
      var box = document.getElementById(input.dataset.fills);
      if (!box || !window.FileReader) return;
      field.hidden = false;
      input.addEventListener("change", function () {
        if (!input.files.length) return;
        var reader = new FileReader();
        reader.onload = function () { box.value = reader.result; box.focus(); };
        reader.readAsText(input.files[0]);
      });
    });
    tick();
    window.setInterval(tick, 1000);
    var root = document.querySelector("[data-ws-path]");
    if (root && "WebSocket" in window) connectLive(root);
  });
})();

/* The colour scheme: light, dark, or the device's ("Automatic", the default). Loaded in the
   head without defer so the chosen scheme applies before the first paint; the choice is
   remembered in this browser only. Without this script the page follows the device. */
(function () {
  "use strict";
  var KEY = "console-scheme";
  var root = document.documentElement;

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === "light" || value === "dark" ? value : "auto";
    } catch (error) {
      return "auto";  // storage refused (private mode): follow the device
    }
  }

  function apply(choice) {
    if (choice === "auto") delete root.dataset.theme; else root.dataset.theme = choice;
  }

  function remember(choice) {
    try {
      if (choice === "auto") window.localStorage.removeItem(KEY);
      else window.localStorage.setItem(KEY, choice);
    } catch (error) {
      // Not remembered; it still applies to this page.
    }
  }

  apply(stored());

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-scheme]").forEach(function (group) {
      var buttons = group.querySelectorAll("[data-scheme-choice]");
      function show(choice) {
        buttons.forEach(function (button) {
          button.setAttribute("aria-pressed", button.dataset.schemeChoice === choice ? "true" : "false");
        });
      }
      buttons.forEach(function (button) {
        button.addEventListener("click", function () {
          var choice = button.dataset.schemeChoice;
          apply(choice);
          remember(choice);
          show(choice);
        });
      });
      show(stored());
      group.hidden = false;
    });
  });
})();

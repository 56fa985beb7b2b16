/* TAR Portal: small progressive enhancements. Every page works without this script. */
(function () {
  "use strict";

  // --- Focus the error summary, so keyboard and screen-reader users land on it. -----------
  function focusErrors() {
    var summary = document.querySelector(".error-summary");
    if (summary) {
      summary.focus();
    }
  }

  // --- Live countdown to a decision deadline (colour plus words, never colour alone). ----
  var HOUR = 3600 * 1000;

  function span(ms) {
    var minutes = Math.max(0, Math.floor(ms / 60000));
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days) return days + " d " + hours + " h";
    if (hours) return hours + " h " + mins + " min";
    return mins + " min";
  }

  function updateCountdowns() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = due - now;
      var level, label, text;
      if (el.hasAttribute("data-breached") || left <= 0) {
        level = "breached"; label = "Breached"; text = "overdue by " + span(-left);
      } else if (left < 4 * HOUR) {
        level = "hours"; label = "Under 4 hours"; text = "due in " + span(left);
      } else if (left < 24 * HOUR) {
        level = "day"; label = "Under 24 hours"; text = "due in " + span(left);
      } else {
        level = "ok"; label = "On time"; text = "due in " + span(left);
      }
      el.className = "due due-" + level;
      var labelEl = el.querySelector(".due-label");
      var restEl = el.querySelector(".due-remaining");
      if (labelEl) labelEl.textContent = label;
      if (restEl) restEl.textContent = ", " + text;
    });
  }

  // --- Draft autosave: post the step's fields in the background as they change. ---------
  function autosave(form) {
    var timer = null;
    var status = document.querySelector("[data-autosave-status]");
    function save() {
      var data = new FormData(form);
      data.delete("action");
      fetch(form.getAttribute("action") || window.location.href, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Autosave": "1" },
      }).then(function (response) {
        if (status && response.ok) {
          var time = new Date().toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
          status.textContent = "Draft saved at " + time + ".";
        }
      }).catch(function () {
        if (status) status.textContent = "The draft could not be saved just now; it will be saved when you continue.";
      });
    }
    function schedule() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(save, 1200);
    }
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
  }

  // --- Coverage check as soon as a code is typed (PRODUCT §5), from the API. -------------
  function coverageCheck(form) {
    var cin = form.getAttribute("data-member-cin");
    form.querySelectorAll("[data-coverage-for]").forEach(function (box) {
      var prefix = box.getAttribute("data-coverage-for");
      var code = form.querySelector("[name='" + prefix + "-code']");
      var purpose = form.querySelector("[name='" + prefix + "-criteria_set']");
      var from = form.querySelector("[name='" + prefix + "-service_date_from']");
      if (!code) return;
      function check() {
        var value = code.value.trim().toUpperCase();
        if (!/^([0-9]{5}|[A-Z][0-9]{4})$/.test(value)) return;
        var params = new URLSearchParams({ code: value });
        if (cin) params.set("member", cin);
        if (from && from.value) params.set("date", from.value);
        if (purpose && purpose.value) params.set("criteria_set", purpose.value);
        fetch("/api/v1/coverage-requirements?" + params.toString(), { credentials: "same-origin" })
          .then(function (response) { return response.json().then(function (body) { return [response.ok, body]; }); })
          .then(function (result) {
            var ok = result[0], body = result[1];
            var p = document.createElement("p");
            if (!ok) {
              p.className = "bad";
              p.textContent = value + ": " + (body.message || "Not a code the plan knows.");
            } else {
              p.className = "coverage-" + body.status;
              var head = document.createElement("strong");
              head.textContent = body.tar_required ? "TAR required" : (body.status === "not_covered" ? "Not covered" : "No TAR needed");
              p.appendChild(head);
              p.appendChild(document.createTextNode(" for " + value + ": " + body.reason + " (" + body.source + ")"));
            }
            box.replaceChildren(p);
          })
          .catch(function () { /* the server-side check on "Save and continue" still runs */ });
      }
      code.addEventListener("change", check);
      if (purpose) purpose.addEventListener("change", check);
      if (from) from.addEventListener("change", check);
    });
  }


  // --- Queue filters apply as soon as one changes (the Search button stays for no-JS). ---
  function applyOnChange(form) {
    form.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () { form.requestSubmit ? form.requestSubmit() : form.submit(); });
    });
  }

  // --- Queue keyboard: j/k move between rows, Enter opens, c claims, x ticks, / searches.
  // Each move is announced in an aria-live region, so screen-reader users hear the case.
  function isTyping(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function queueKeys(table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll("tr[data-row]"));
    var announcer = document.querySelector("[data-row-announcer]");
    var search = document.querySelector("[data-search]");
    var current = -1;
    function focusRow(index) {
      if (!rows.length) return;
      current = Math.max(0, Math.min(rows.length - 1, index));
      rows.forEach(function (row, i) { row.classList.toggle("row-current", i === current); });
      var row = rows[current];
      row.focus();
      if (announcer) {
        announcer.textContent = "Row " + (current + 1) + " of " + rows.length + ": " +
          row.getAttribute("data-label") + ". Enter opens" +
          (row.querySelector("form[data-claim]") ? ", c claims." : ".");
      }
    }
    rows.forEach(function (row, i) {
      row.addEventListener("focusin", function () {
        current = i;
        rows.forEach(function (r, j) { r.classList.toggle("row-current", j === i); });
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "/" && !isTyping(event.target)) {
        if (search) { event.preventDefault(); search.focus(); search.select(); }
        return;
      }
      if (event.key === "Escape" && event.target === search) { search.blur(); focusRow(0); return; }
      if (isTyping(event.target) && event.target.type !== "checkbox") return;
      var row = current >= 0 ? rows[current] : null;
      if (event.key === "j") { event.preventDefault(); focusRow(current + 1); }
      else if (event.key === "k") { event.preventDefault(); focusRow(current <= 0 ? 0 : current - 1); }
      else if (event.key === "Enter" && row && event.target === row) {
        event.preventDefault(); window.location.assign(row.getAttribute("data-open"));
      } else if (event.key === "c" && row) {
        var claim = row.querySelector("form[data-claim]");
        if (claim) { event.preventDefault(); claim.requestSubmit ? claim.requestSubmit() : claim.submit(); }
        else if (announcer) { announcer.textContent = "This request cannot be claimed."; }
      } else if (event.key === "x" && row) {
        var box = row.querySelector("input[type=checkbox]");
        if (box) {
          event.preventDefault(); box.checked = !box.checked;
          if (announcer) announcer.textContent = (box.checked ? "Ticked " : "Unticked ") + row.getAttribute("data-label");
        }
      }
    });
    // After a search, start on the first row so j/k/c work at once.
    if (rows.length && search && search.value && document.activeElement === document.body) focusRow(0);
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrors();
    updateCountdowns();
    if (document.querySelector("[data-due]")) setInterval(updateCountdowns, 30000);
    document.querySelectorAll("form[data-autosave]").forEach(autosave);
    document.querySelectorAll("form[data-member-cin]").forEach(coverageCheck);
    document.querySelectorAll("form[data-apply-on-change]").forEach(applyOnChange);
    document.querySelectorAll("table[data-queue]").forEach(queueKeys);
  });
})();

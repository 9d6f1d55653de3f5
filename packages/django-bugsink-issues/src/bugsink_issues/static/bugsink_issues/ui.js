// Bugsink UI: keyboard shortcuts, copy buttons, bulk selection, confirmations. No dependencies.
(function () {
  "use strict";
  var root = function () { return document.querySelector(".bsk"); };

  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".bsk tr[data-row]")); }
  var cursor = -1;
  function moveCursor(delta) {
    var all = rows();
    if (!all.length) return;
    if (cursor >= 0 && all[cursor]) all[cursor].classList.remove("bsk-cursor");
    cursor = Math.max(0, Math.min(all.length - 1, cursor + delta));
    all[cursor].classList.add("bsk-cursor");
    all[cursor].scrollIntoView({ block: "nearest" });
  }
  function current() { return rows()[cursor]; }
  function click(selector) { var el = document.querySelector(selector); if (el) el.click(); return !!el; }
  function go(selector) {
    var el = document.querySelector(selector);
    if (el && el.getAttribute("href")) window.location.href = el.getAttribute("href");
  }

  function updateBulk() {
    var form = document.querySelector("form[data-bulk]");
    if (!form) return;
    var n = form.querySelectorAll('input[name="issue"]:checked').length;
    form.querySelectorAll("[data-needs-selection]").forEach(function (b) { b.disabled = n === 0; });
    var label = form.querySelector("[data-selection-count]");
    if (label) label.textContent = n ? n + " selected" : "";
  }

  var pendingG = false;
  document.addEventListener("keydown", function (e) {
    if (!root() || e.ctrlKey || e.metaKey || e.altKey) return;
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || e.target.isContentEditable) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    var help = document.querySelector("[data-help]");
    if (pendingG) {
      pendingG = false;
      if (e.key === "p") { go(".bsk-brand"); return; }
    }
    switch (e.key) {
      case "/": var s = document.querySelector("[data-search]"); if (s) { e.preventDefault(); s.focus(); s.select(); } break;
      case "j": moveCursor(1); break;
      case "k": moveCursor(-1); break;
      case "o": case "Enter":
        var row = current();
        if (row) { var a = row.querySelector("[data-open]"); if (a) { e.preventDefault(); a.click(); } }
        break;
      case "x":
        var r = current();
        if (r) { var box = r.querySelector('input[type="checkbox"]'); if (box) { box.checked = !box.checked; updateBulk(); } }
        break;
      case "r": click('button[data-key="r"]'); break;
      case "m": click('button[data-key="m"]'); break;
      case "[": go("[data-prev-event]:not([aria-disabled])"); break;
      case "]": go("[data-next-event]:not([aria-disabled])"); break;
      case "g": pendingG = true; break;
      case "?": if (help) help.hidden = !help.hidden; break;
      case "Escape": if (help) help.hidden = true; break;
    }
  });

  document.addEventListener("click", function (e) {
    var t = e.target;
    var copy = t.closest && t.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.getAttribute("data-copy"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          var before = copy.textContent; copy.textContent = "Copied"; setTimeout(function () { copy.textContent = before; }, 1200);
        });
      }
      return;
    }
    var confirmBtn = t.closest && t.closest("[data-confirm]");
    if (confirmBtn && !window.confirm(confirmBtn.getAttribute("data-confirm"))) { e.preventDefault(); return; }
    if (t.closest && t.closest("[data-help-toggle]")) { var h = document.querySelector("[data-help]"); if (h) h.hidden = !h.hidden; return; }
    // A click anywhere on a list row opens it, except on its controls.
    var row = t.closest && t.closest("tr[data-href]");
    if (row && !t.closest("a, button, input, label, select, td.bsk-check")) window.location.href = row.getAttribute("data-href");
  });

  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches("[data-select-all]")) {
      document.querySelectorAll('form[data-bulk] input[name="issue"]').forEach(function (b) { b.checked = t.checked; });
    }
    if (t.matches('input[name="issue"], [data-select-all]')) updateBulk();
    if (t.matches("select[data-autosubmit]") && t.form) t.form.submit();
  });

  // Bars take their width from data-bar here: the Content-Security-Policy forbids style attributes.
  function sizeBars() {
    document.querySelectorAll(".bsk [data-bar]").forEach(function (bar) {
      var pct = parseFloat(bar.getAttribute("data-bar")) || 0;
      bar.style.width = Math.max(0, Math.min(100, pct)) + "%";
    });
  }

  // The mute form's event count matters only for the "until N events" choices.
  function updateMuteForms() {
    document.querySelectorAll("form[data-mute-form]").forEach(function (form) {
      var period = form.querySelector('select[name="period"]');
      var count = form.querySelector('input[name="event_count"]');
      if (!period || !count) return;
      var needed = period.value.indexOf("events") === 0;
      count.hidden = !needed;
      count.required = needed;
    });
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches('form[data-mute-form] select[name="period"]')) updateMuteForms();
  });

  document.addEventListener("DOMContentLoaded", function () { updateBulk(); updateMuteForms(); sizeBars(); });
})();

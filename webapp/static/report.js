// Retrieval report (类案检索报告): the rulings a judge selects and every search run, kept in
// localStorage, so the report's time and method come from what was actually searched.
"use strict";
(function () {
  var CASES = "netcourt.report.cases";
  var SEARCHES = "netcourt.report.searches";
  var FORM = "netcourt.report.form";
  var MAX_SEARCHES = 100;

  function load(key, fallback) {
    try {
      var value = JSON.parse(window.localStorage.getItem(key));
      return value === null || value === undefined ? fallback : value;
    } catch (e) {
      return fallback;
    }
  }

  function save(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* storage full or disabled: the page still works, unrecorded */ }
  }

  function cases() {
    var list = load(CASES, []);
    return Array.isArray(list) ? list : [];
  }

  function searches() {
    var list = load(SEARCHES, []);
    return Array.isArray(list) ? list : [];
  }

  function record(entry) {
    var list = searches();
    var last = list[list.length - 1];
    var same = last && last.kind === entry.kind && last.query === entry.query &&
      JSON.stringify(last.filters || {}) === JSON.stringify(entry.filters || {});
    if (same) {
      last.time = entry.time;
      last.total = entry.total;
    } else {
      list.push(entry);
    }
    save(SEARCHES, list.slice(-MAX_SEARCHES));
  }

  function recordPage() {
    var el = document.getElementById("report-record");
    if (!el) return;
    var filters = {};
    try {
      filters = JSON.parse(el.getAttribute("data-filters") || "{}") || {};
    } catch (e) { filters = {}; }
    var total = el.getAttribute("data-total");
    record({
      time: new Date().toISOString(),
      kind: el.getAttribute("data-kind") || "search",
      query: el.getAttribute("data-query") || "",
      filters: filters,
      total: total === null ? null : parseInt(total, 10)
    });
  }

  function indexOf(list, id) {
    for (var i = 0; i < list.length; i++) {
      if (list[i].id === id) return i;
    }
    return -1;
  }

  function refresh() {
    var list = cases();
    var buttons = document.querySelectorAll(".report-add");
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i];
      var on = indexOf(list, button.getAttribute("data-id")) >= 0;
      button.textContent = button.getAttribute(on ? "data-label-remove" : "data-label-add");
      button.classList.toggle("selected", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    }
    var count = document.getElementById("report-count");
    if (count) count.textContent = String(list.length);
  }

  function toggle(button) {
    var list = cases();
    var id = button.getAttribute("data-id");
    var at = indexOf(list, id);
    if (at >= 0) {
      list.splice(at, 1);
    } else {
      var via = button.getAttribute("data-via") || "";
      list.push({
        id: id,
        title: button.getAttribute("data-title") || id,
        case_number: button.getAttribute("data-case-number") || "",
        court: button.getAttribute("data-court") || "",
        date: button.getAttribute("data-date") || "",
        authority: button.getAttribute("data-authority") || "",
        via: via,
        added: new Date().toISOString()
      });
      if (via) {
        // Picked from a ruling's similar rulings: that was a similar-case search of its own.
        record({time: new Date().toISOString(), kind: "similar", query: via, filters: {},
                total: document.querySelectorAll(".similar-hit").length});
      }
    }
    save(CASES, list);
    refresh();
    renderReport();
  }

  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function renderReport() {
    var form = document.getElementById("report-form");
    if (!form) return;
    var saved = load(FORM, {}) || {};
    var notes = saved.notes || {};
    var list = cases();
    var ol = document.getElementById("report-cases");
    ol.textContent = "";
    if (!list.length) {
      ol.appendChild(element("li", "empty", form.getAttribute("data-label-empty")));
    }
    list.forEach(function (c) {
      var li = element("li", "report-case-item");
      li.setAttribute("data-id", c.id);
      var link = element("a", "title", c.title);
      link.href = "/entries/" + encodeURIComponent(c.id);
      li.appendChild(link);
      li.appendChild(element("span", "meta", " " + [c.court, c.case_number, c.date, c.authority].filter(Boolean).join(" · ")));
      var hidden = element("input");
      hidden.type = "hidden";
      hidden.name = "id";
      hidden.value = c.id;
      li.appendChild(hidden);
      var label = element("label", "note-label", form.getAttribute("data-label-note"));
      var note = element("textarea", "note");
      note.name = "note:" + c.id;
      note.rows = 2;
      note.maxLength = 4000;
      note.value = notes[c.id] || "";
      label.appendChild(note);
      li.appendChild(label);
      var remove = element("button", "remove secondary", form.getAttribute("data-label-remove"));
      remove.type = "button";
      remove.addEventListener("click", function () {
        var current = cases();
        var at = indexOf(current, c.id);
        if (at >= 0) current.splice(at, 1);
        save(CASES, current);
        renderReport();
        refresh();
      });
      li.appendChild(remove);
      ol.appendChild(li);
    });
    var recorded = searches();
    var sl = document.getElementById("report-searches");
    sl.textContent = "";
    if (!recorded.length) sl.appendChild(element("li", "empty", form.getAttribute("data-label-none")));
    recorded.forEach(function (s) {
      var kind = form.getAttribute(s.kind === "similar" ? "data-label-similar" : "data-label-search");
      var filters = Object.keys(s.filters || {}).map(function (k) { return k + "=" + s.filters[k]; }).join("；");
      var when = s.time ? new Date(s.time).toLocaleString() : "";
      var text = when + " " + kind + "：" + (s.query || "—") + (filters ? "（" + filters + "）" : "") +
        (s.total === null || s.total === undefined ? "" : " " + s.total + " " + form.getAttribute("data-label-results"));
      sl.appendChild(element("li", "", text));
    });
    document.getElementById("report-searches-input").value = JSON.stringify(recorded);
    ["searcher", "unit", "pending", "facts", "dispute", "conclusion"].forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (field && !field.value && saved[name]) field.value = saved[name];
    });
  }

  function keepForm(event) {
    var form = document.getElementById("report-form");
    var target = event.target;
    if (!form || !target.name) return;
    var saved = load(FORM, {}) || {};
    if (target.name.indexOf("note:") === 0) {
      saved.notes = saved.notes || {};
      saved.notes[target.name.slice(5)] = target.value;
    } else {
      saved[target.name] = target.value;
    }
    save(FORM, saved);
  }

  function clearAll() {
    [CASES, SEARCHES, FORM].forEach(function (key) {
      try { window.localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
    });
    var form = document.getElementById("report-form");
    if (form) form.reset();
    renderReport();
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    recordPage();
    refresh();
    renderReport();
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest(".report-add") : null;
      if (button) toggle(button);
    });
    var form = document.getElementById("report-form");
    if (form) {
      form.addEventListener("input", keepForm);
      document.getElementById("report-clear").addEventListener("click", clearAll);
    }
    var print = document.getElementById("print-report");
    if (print) print.addEventListener("click", function () { window.print(); });
  });
})();

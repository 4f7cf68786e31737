// The review station's little script: box clicks become corrections, the reviewer's name is
// remembered in this browser, and after a save the page waits for the new decision.
"use strict";
(function () {
  var WORDS = { yes: "はい", no: "いいえ", blank: "未回答" };
  function pick(box) {
    var control = box.getAttribute("data-control");
    var value = box.getAttribute("data-value");
    if (!control) { return; }
    var form = document.getElementById("review-form");
    var radios = form.querySelectorAll("input[type=radio]");
    var done = false;
    radios.forEach(function (r) {
      if (r.name === control && r.value === value) { r.checked = true; done = true; }
    });
    if (!done) {
      var holder = document.getElementById("extra-edits");
      var input = null;
      holder.querySelectorAll("input").forEach(function (i) { if (i.name === control) { input = i; } });
      if (!input) {
        input = document.createElement("input");
        input.type = "hidden";
        input.name = control;
        holder.appendChild(input);
      }
      input.value = value;
    }
    document.querySelectorAll(".box.picked").forEach(function (b) {
      if (b.getAttribute("data-control") === control) { b.classList.remove("picked"); }
    });
    box.classList.add("picked");
    var list = document.getElementById("pending-list");
    var item = null;
    list.querySelectorAll("li").forEach(function (li) { if (li.getAttribute("data-control") === control) { item = li; } });
    if (!item) { item = document.createElement("li"); item.setAttribute("data-control", control); list.appendChild(item); }
    item.textContent = box.title + " → " + (WORDS[value] || value);
    document.getElementById("pending").hidden = false;
  }

  function remember() {
    var field = document.getElementById("reviewer");
    if (!field) { return; }
    try {
      if (!field.value && window.localStorage.getItem("station.reviewer")) {
        field.value = window.localStorage.getItem("station.reviewer");
      }
      field.addEventListener("input", function () { window.localStorage.setItem("station.reviewer", field.value); });
    } catch (e) { /* storage off: the name is typed each time */ }
  }

  function waitForRun() {
    var box = document.getElementById("rerun");
    if (!box || box.getAttribute("data-busy") !== "1") { return; }
    var url = box.getAttribute("data-status");
    function poll() {
      fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) { return r.json(); }).then(function (s) {
        box.textContent = s.text;
        box.className = "rerun s-" + s.state;
        if (s.busy) { window.setTimeout(poll, 250); } else { window.location.replace(window.location.pathname + "?done=1"); }
      }).catch(function () { window.setTimeout(poll, 1000); });
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".box[data-control]").forEach(function (b) {
      b.addEventListener("click", function () { pick(b); });
    });
    remember();
    waitForRun();
  });
})();

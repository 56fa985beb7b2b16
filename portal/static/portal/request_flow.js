/* TAR Portal, the provider's request step: an ICD-10-CM look-up under each diagnosis field.
   Progressive enhancement only: without this script the codes are typed and checked by the
   server when the step is saved, and their names shown then. */
(function () {
  "use strict";

  function lastCode(value) {
    var parts = value.split(/[,;\n]/);
    return parts[parts.length - 1].trim();
  }

  function replaceLast(value, code) {
    var parts = value.split(/[,;\n]/).map(function (part) { return part.trim(); });
    parts[parts.length - 1] = code;
    return parts.filter(Boolean).join(", ");
  }

  function lookup(box) {
    var input = document.getElementById(box.getAttribute("data-diagnosis-for"));
    if (!input) return;
    var url = box.getAttribute("data-diagnosis-lookup");
    var list = document.createElement("ul");
    list.className = "plain diagnosis-suggestions";
    list.id = input.id + "_suggestions";
    list.setAttribute("aria-label", "Matching ICD-10-CM codes");
    var status = document.createElement("p");
    status.className = "hint";
    status.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", status);
    status.insertAdjacentElement("afterend", list);
    var timer = null;
    var asked = "";

    function show(results) {
      list.replaceChildren();
      results.forEach(function (item) {
        var li = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link-button";
        button.textContent = item.code + " " + item.title;
        button.addEventListener("click", function () {
          input.value = replaceLast(input.value, item.code) + ", ";
          input.dispatchEvent(new Event("change", { bubbles: true }));
          list.replaceChildren();
          status.textContent = item.code + " added.";
          input.focus();
        });
        li.appendChild(button);
        list.appendChild(li);
      });
      status.textContent = results.length
        ? results.length + " matching code" + (results.length === 1 ? "" : "s") + " below."
        : "No billable ICD-10-CM code matches.";
    }

    function search() {
      var query = lastCode(input.value);
      if (query === asked) return;
      asked = query;
      if (query.length < 2) { list.replaceChildren(); status.textContent = ""; return; }
      fetch(url + "?" + new URLSearchParams({ q: query }).toString(), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (body) { if (asked === query) show(body.results || []); })
        .catch(function () { /* the server checks the codes when the step is saved */ });
    }

    input.addEventListener("input", function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(search, 250);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-diagnosis-lookup]").forEach(lookup);
  });
})();

/* The receipt's print button (shown only with the script; Ctrl+P works without it). */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
});

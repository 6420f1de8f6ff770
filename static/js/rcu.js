/* RCU keyboard shortcuts. No inline script anywhere: the CSP allows 'self' only.
 *   /      focus the customer search box (the page's own, else the one in the top bar)
 *   Enter  in the customer search box: open the first result when the results shown
 *          are those of what is typed; otherwise the form searches as usual.
 * Live search leaves empty criteria out of the request, so the pushed URL stays short.
 * Stewardship pages ([data-shortcuts]):
 *   j / k  (or n / p)  queue: move between candidates; review: next / previous candidate
 *   Enter  queue: open the selected candidate
 *   m r s  review: merge, reject, skip
 *   q      review: back to the queue
 * Forms marked [data-no-enter-submit] (the review's decision form): Enter in a field
 * never submits them; only their buttons decide.
 */
(function () {
  "use strict";

  function isEditable(element) {
    if (!element || !element.tagName) return false;
    var tag = element.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || element.isContentEditable;
  }

  function searchInput() {
    return document.querySelector("main [data-search-input]") ||
      document.querySelector("[data-search-input]");
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isEditable(event.target)) return;
    var input = searchInput();
    if (!input) return;
    event.preventDefault();
    input.focus();
    input.select();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing || event.shiftKey || event.ctrlKey || event.metaKey) return;
    var input = event.target;
    if (!input.matches || !input.matches("main [data-search-input]")) return;
    var results = document.querySelector("[data-results-for]");
    var first = document.querySelector("[data-first-result]");
    if (!results || !first) return;
    if (results.getAttribute("data-results-for") !== input.value.trim()) return;
    event.preventDefault();
    window.location.assign(first.href);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    var field = event.target;
    if (!field || !field.closest || !field.closest("form[data-no-enter-submit]")) return;
    var tag = field.tagName.toLowerCase();
    if (tag === "textarea" || tag === "button" || tag === "a") return;
    event.preventDefault();
  });

  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.id !== "customer-search") return;
    var parameters = event.detail.parameters;
    ["name", "email", "phone", "postcode"].forEach(function (name) {
      if (parameters[name] === "") delete parameters[name];
    });
  });

  function typesText(element) {
    if (!element || !element.tagName) return false;
    var tag = element.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || element.isContentEditable) return true;
    if (tag !== "input") return false;
    var type = (element.getAttribute("type") || "text").toLowerCase();
    return ["radio", "checkbox", "button", "submit", "hidden"].indexOf(type) === -1;
  }

  var ALIASES = { n: "j", p: "k" };

  function moveInQueue(step) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("[data-queue-row]"));
    if (!rows.length) return false;
    var index = rows.indexOf(document.activeElement);
    var next = rows[Math.min(Math.max(index + step, 0), rows.length - 1)];
    if (index === -1) next = rows[0];
    rows.forEach(function (row) { row.closest("tr").classList.remove("is-selected"); });
    next.closest("tr").classList.add("is-selected");
    next.focus();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (typesText(event.target)) return;
    var area = document.querySelector("[data-shortcuts]");
    if (!area) return;
    var key = ALIASES[event.key] || event.key;
    if (area.getAttribute("data-shortcuts") === "queue" && (key === "j" || key === "k")) {
      if (moveInQueue(key === "j" ? 1 : -1)) event.preventDefault();
      return;
    }
    var target = document.querySelector('[data-key="' + key + '"]');
    if (!target) return;
    event.preventDefault();
    target.click();
  });
})();

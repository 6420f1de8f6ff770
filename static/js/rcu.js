/* RCU keyboard shortcuts. No inline script anywhere: the CSP allows 'self' only.
 *   /      focus the customer search box (the page's own, else the one in the top bar)
 *   Enter  in the customer search box: open the first result when the results shown
 *          are those of what is typed; otherwise the form searches as usual.
 * Live search leaves empty criteria out of the request, so the pushed URL stays short.
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

  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.id !== "customer-search") return;
    var parameters = event.detail.parameters;
    ["name", "email", "phone", "postcode"].forEach(function (name) {
      if (parameters[name] === "") delete parameters[name];
    });
  });
})();

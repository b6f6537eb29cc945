// Progressive enhancement only: every page works without this file (docs/design.md).
(function () {
  "use strict";

  // The navigation collapses behind the "Menu" button on narrow screens (CSS decides
  // when; the panel carries data-collapsed from the server, so nothing flashes).
  var toggle = document.querySelector(".nav-toggle");
  var panel = document.getElementById("site-nav");
  if (toggle && panel) {
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", open ? "false" : "true");
      if (open) { panel.setAttribute("data-collapsed", ""); } else { panel.removeAttribute("data-collapsed"); }
    });
  }

  // The account menu is a drop-down on wide screens; on narrow ones its links are listed
  // in the collapsed navigation, so it stays open there. It closes on Escape and on a
  // click elsewhere.
  var menus = document.querySelectorAll("details.account-menu");
  var narrow = window.matchMedia("(max-width: 63.99rem)");
  function fit() { menus.forEach(function (menu) { menu.open = narrow.matches; }); }
  fit();
  if (narrow.addEventListener) { narrow.addEventListener("change", fit); }
  document.addEventListener("click", function (event) {
    if (narrow.matches) { return; }
    menus.forEach(function (menu) {
      if (menu.open && !menu.contains(event.target)) { menu.open = false; }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || narrow.matches) { return; }
    menus.forEach(function (menu) {
      if (menu.open) { menu.open = false; menu.querySelector("summary").focus(); }
    });
  });

  // Tables that stack on phones: each cell gets its column's name as a label, and the
  // table keeps its table semantics when CSS displays it as blocks.
  document.querySelectorAll("table.table-stack").forEach(function (table) {
    var headers = Array.prototype.map.call(
      table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
    table.setAttribute("role", "table");
    table.querySelectorAll("thead, tbody").forEach(function (group) { group.setAttribute("role", "rowgroup"); });
    table.querySelectorAll("tr").forEach(function (row) {
      row.setAttribute("role", "row");
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        if (cell.tagName === "TH" && cell.parentNode.parentNode.tagName === "THEAD") {
          cell.setAttribute("role", "columnheader");
        } else {
          cell.setAttribute("role", cell.tagName === "TH" ? "rowheader" : "cell");
          if (!cell.hasAttribute("data-label") && headers[column] !== undefined && !cell.hasAttribute("colspan")) {
            cell.setAttribute("data-label", headers[column]);
          }
        }
        column += cell.colSpan || 1;
      });
    });
  });

  // A table region is a keyboard stop only while its table is wider than the screen.
  function update(wrap) {
    var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
    if (scrolls) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      if (!wrap.hasAttribute("aria-label")) {
        var caption = wrap.querySelector("caption");
        wrap.setAttribute("aria-label", caption ? caption.textContent.trim() : document.title);
      }
    } else {
      wrap.removeAttribute("tabindex");
      wrap.removeAttribute("role");
    }
  }
  var wraps = document.querySelectorAll(".table-wrap");
  wraps.forEach(update);
  if ("ResizeObserver" in window) {
    var observer = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) { update(entry.target); });
    });
    wraps.forEach(function (wrap) { observer.observe(wrap); });
  }

  // Copy buttons: data-copy names the field whose value is copied.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) { return; }
      var label = button.firstChild.textContent;
      function done() {
        button.firstChild.textContent = button.getAttribute("data-copied") || label;
        setTimeout(function () { button.firstChild.textContent = label; }, 2000);
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
      } else {
        field.select();
        if (document.execCommand && document.execCommand("copy")) { done(); }
      }
    });
  });
})();

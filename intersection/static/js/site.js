// Progressive enhancement only: every page works without this file.
// A table region is a keyboard stop only while its table is wider than the screen.
(function () {
  "use strict";
  function update(wrap) {
    var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
    if (scrolls) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
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
})();

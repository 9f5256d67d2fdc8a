// 催报: the "select all" box in the period overview's table header ticks every 催报 box of the
// rows shown on this page (templates/tasks/period_overview.html), never rows of other pages.
// Without scripts the box stays hidden and each row is ticked by hand.
(function () {
  "use strict";
  document.querySelectorAll("input[data-select-rows]").forEach(function (all) {
    var form = document.getElementById(all.getAttribute("data-select-rows"));
    if (!form) return;
    var boxes = form.querySelectorAll('tbody input[type="checkbox"][name="unit"]');
    if (!boxes.length) return;
    all.hidden = false;
    function sync() {
      var ticked = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
      all.checked = ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      all.indeterminate = false;
    });
    boxes.forEach(function (b) { b.addEventListener("change", sync); });
    sync();
  });
})();

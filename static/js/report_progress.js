// 评估报告: follow unfinished report runs without reloading the page. Each row of a queued or
// running run carries data-status-url; this polls it every few seconds and updates the row
// (status, progress, step, error, download link) until the run has finished. No inline script.
(function () {
  "use strict";
  var table = document.getElementById("report-runs");
  if (!table || !window.fetch) { return; }
  var lang = document.documentElement.lang || "zh-CN";
  var zh = lang.indexOf("zh") === 0;
  var INTERVAL = 2000;

  function field(row, name) { return row.querySelector("[data-field='" + name + "']"); }

  function update(row, data) {
    var status = field(row, "status");
    if (status) {
      status.textContent = data.status_label;
      status.className = "status status-" + data.status;
    }
    var progress = field(row, "progress");
    if (progress) { progress.value = data.progress; progress.textContent = data.progress + "%"; }
    var note = field(row, "note");
    if (note) { note.textContent = data.progress_note || ""; }
    var error = field(row, "error");
    if (error) { error.textContent = data.error || ""; }
    var checksum = field(row, "checksum");
    if (checksum && data.checksum) {
      checksum.textContent = data.checksum.slice(0, 12) + "…";
      checksum.title = data.checksum;
    }
    var pages = field(row, "pages");
    if (pages && data.pages) { pages.textContent = data.pages; }
    var download = field(row, "download");
    if (download && data.download_url) {
      download.textContent = "";
      var link = document.createElement("a");
      link.href = data.download_url;
      link.textContent = zh ? "下载 PDF" : "Download PDF";
      download.appendChild(link);
    }
  }

  function poll(row) {
    var url = row.getAttribute("data-status-url");
    if (!url) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status >= 400 && response.status < 500) { return null; }  // gone or forbidden: stop
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        if (data === null) { row.removeAttribute("data-status-url"); return; }
        update(row, data);
        if (data.finished) {
          row.removeAttribute("data-status-url");
        } else {
          window.setTimeout(function () { poll(row); }, INTERVAL);
        }
      })
      .catch(function () {
        // a network hiccup: try again a little later rather than give up
        window.setTimeout(function () { poll(row); }, INTERVAL * 3);
      });
  }

  var rows = table.querySelectorAll("tr[data-status-url]");
  for (var i = 0; i < rows.length; i++) { poll(rows[i]); }
})();

// Autosave of the quarterly form: every 60 s after a change, the draft is posted in the
// background. When someone else saved the form meanwhile, the server merges field by field;
// only when both changed the same field is the save refused (409): autosave stops and says so,
// and the user's text stays in the page. No inline script, so a strict CSP can forbid them.
(function () {
  "use strict";
  var form = document.getElementById("submission-form");
  if (!form || form.dataset.autosave !== "1") { return; }
  var status = document.getElementById("autosave-status");
  var dirty = false;
  var stopped = false;
  var lang = document.documentElement.lang || "zh-CN";
  var zh = lang.indexOf("zh") === 0;
  function say(text) { if (status) { status.textContent = text; } }
  form.addEventListener("input", function () { dirty = true; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !stopped) { event.preventDefault(); event.returnValue = ""; }
  });
  form.addEventListener("submit", function () { dirty = false; });
  function autosave() {
    if (!dirty || stopped) { return; }
    var data = new FormData(form);
    data.set("then", "autosave");
    dirty = false;
    fetch(window.location.pathname, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-Autosave": "1", "X-CSRFToken": data.get("csrfmiddlewaretoken") }
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (result) {
      if (result.body.ok) {
        // After a merge the server hands back the page's old version, so that the next save
        // is merged again and cannot undo what someone else changed meanwhile; either way the
        // page's own values just saved become the base the next merge compares with.
        form.querySelector("input[name=version]").value = result.body.version;
        var base = {};
        data.forEach(function (value, name) {
          if (/^(line|fig|region)-/.test(name)) { base[name] = value; }
        });
        form.querySelector("input[name=base]").value = JSON.stringify(base);
        say(result.body.merged ? result.body.message + " " + result.body.saved_at
                               : (zh ? "已自动保存 " : "Autosaved ") + result.body.saved_at);
      } else if (result.status === 409) {
        stopped = true;
        say(result.body.message);
      } else {
        dirty = true;
        say((result.body.errors || []).join(" "));
      }
    }).catch(function () {
      dirty = true;
      say(zh ? "自动保存失败，请检查网络后手动保存。" : "Autosave failed; please save by hand.");
    });
  }
  window.setInterval(autosave, 60000);
}());

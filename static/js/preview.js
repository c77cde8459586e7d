// The filter form's live preview: after a pause in typing, send the unsaved input to
// the preview endpoint and show the listings it would have matched. No library; the
// form's own CSRF field authorises the request. Without JavaScript, the Preview button
// does the same with a full page.
(function () {
  "use strict";
  var form = document.getElementById("filter-form");
  var target = document.getElementById("preview");
  if (!form || !target || !window.fetch) {
    return;
  }
  var url = form.getAttribute("data-preview-url");
  var token = form.querySelector("input[name=csrfmiddlewaretoken]");
  var timer = null;
  var latest = 0;

  function refresh() {
    var mine = ++latest;
    fetch(url, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "", "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        // A slower answer to older input must not replace a newer one.
        if (html !== null && mine === latest) {
          target.innerHTML = html; // the server's escaped fragment
        }
      })
      .catch(function () {});
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();

// Actions through the REST API, for operators.
//
// EO.act(url, {method, body}) sends one request (JSON body, the CSRF token) and returns the parsed reply; a
// refusal throws an Error whose message says why in words (the API's detail, or each field's first error).
// Buttons with data-action (the URL to POST) and data-confirm (asked first) use it: on success the page reloads
// to show the new state, or, for a button marked data-live on a live page (cancel a job, stop a session), the
// button goes and the page's live events show the new state; a refusal is said in #action-error. A form with data-confirm is submitted only once
// its question is answered yes (a destructive plain form, e.g. deleting a model).
(function () {
  "use strict";
  const EO = (window.EO = window.EO || {});

  function csrf() {
    const field = document.querySelector("[name=csrfmiddlewaretoken]");
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/);
    return field ? field.value : m ? decodeURIComponent(m[1]) : "";
  }

  // {"detail": "..."} or {"name": ["This field may not be blank."]} as one sentence.
  function refusal(status, data) {
    if (data && typeof data.detail === "string") return data.detail;
    const fields = Object.entries(data || {}).map(([field, errors]) => field + ": " + [].concat(errors)[0]);
    return fields.length ? fields.join("; ") : "HTTP " + status;
  }

  EO.act = async function (url, options) {
    const opts = options || {};
    const headers = { "X-CSRFToken": csrf(), Accept: "application/json" };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method: opts.method || "POST", credentials: "same-origin", headers: headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new Error(refusal(response.status, data));
    return data;
  };

  for (const button of document.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", async function () {
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      const said = document.getElementById("action-error");
      button.disabled = true;
      const label = button.textContent;
      button.textContent = label + "…";
      try {
        await EO.act(button.dataset.action);
        if (button.hasAttribute("data-live")) button.remove();
        else window.location.reload();
      } catch (err) {
        if (said) said.textContent = label + " failed: " + err.message;
        button.textContent = label;
        button.disabled = false;
      }
    });
  }

  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
})();

// Buttons that act on a run through the REST API: data-action (the URL to POST), data-confirm (asked
// first). On success the page reloads to show the new state; a refusal is said in #action-error.
(function () {
  "use strict";
  function csrf() {
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  for (const button of document.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", async function () {
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      const said = document.getElementById("action-error");
      button.disabled = true;
      const label = button.textContent;
      button.textContent = label + "…";
      try {
        const response = await fetch(button.dataset.action, {
          method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() },
        });
        if (!response.ok) {
          const data = await response.json().catch(() => ({}));
          throw new Error(data.detail || "HTTP " + response.status);
        }
        window.location.reload();
      } catch (err) {
        if (said) said.textContent = label + " failed: " + err.message;
        button.textContent = label;
        button.disabled = false;
      }
    });
  }
})();

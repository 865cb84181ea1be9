// "Copy citation" on ruling pages: puts the ruling's citation (title, court, case number, date) on
// the clipboard and says so in a live region. Without JavaScript the button stays hidden.
"use strict";

(function copyCitation() {
  document.querySelectorAll("button.copy-citation").forEach(function (button) {
    const status = document.getElementById(button.getAttribute("aria-describedby") || "");
    button.hidden = false;
    function say(text) {
      if (status) status.textContent = text;
    }
    function fallback(text) {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      let done = false;
      try {
        done = document.execCommand("copy");
      } catch (error) {
        done = false;
      }
      area.remove();
      return done;
    }
    button.addEventListener("click", async function () {
      const text = button.dataset.citation;
      let done = false;
      if (navigator.clipboard && window.isSecureContext) {
        try {
          await navigator.clipboard.writeText(text);
          done = true;
        } catch (error) {
          done = fallback(text);
        }
      } else {
        done = fallback(text);
      }
      say(done ? button.dataset.labelDone : button.dataset.labelFailed + text);
    });
  });
})();

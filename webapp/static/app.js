// Small progressive enhancements; the site works without JavaScript.
"use strict";

// Under `kb serve --watch`, reload the page when the index (or the list of problems) changes.
(function watchForChanges() {
  const url = document.body.dataset.watch;
  if (!url) return;
  let stamp = null;
  async function poll() {
    try {
      const response = await fetch(url, { cache: "no-store" });
      if (response.ok) {
        const body = await response.json();
        if (stamp !== null && body.stamp !== stamp) {
          window.location.reload();
          return;
        }
        stamp = body.stamp;
      }
    } catch (error) {
      // The server may be restarting; try again on the next tick.
    }
    window.setTimeout(poll, 300);
  }
  poll();
})();
